/**
 * The exact YAML reader: the `yaml` package with source positions, located syntax errors, duplicate keys and
 * bounds on anchors and aliases. yaml-source.ts loads it only when a config needs it.
 */
import { isAlias, isCollection, isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { isKeyName, shownKey } from './key-name.ts';
import { MAX_YAML_ANCHORS, MAX_YAML_NODES } from './limits.ts';
import { syntaxIssues as describeSyntaxErrors } from './syntax-hints.ts';
import type { ConfigIssue, SourcePosition, YamlSource } from './yaml-source.ts';

/** The `yaml` package's reading: source positions, located syntax errors, duplicate keys and alias bounds. */
export function readExact(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // uniqueKeys compares each key with every earlier key of its mapping (quadratic): duplicates are found
  // by structureIssues in one pass instead.
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const syntaxIssues: ConfigIssue[] = describeSyntaxErrors(
    text,
    doc.errors.map((error) => ({ code: error.code, message: error.message, offset: error.pos[0] })),
    position,
  );
  if (syntaxIssues.length === 0) syntaxIssues.push(...structureIssues(doc, position));

  function locate(path: readonly (string | number)[], preferKey = false): SourcePosition {
    let node: unknown = doc.contents;
    let best: SourcePosition = { line: 1, col: 1 };
    if (isNode(node) && node.range) best = position(node.range[0]);
    for (const segment of path) {
      if (!isNode(node) || !('items' in node)) break;
      const items = (node as { items: unknown[] }).items;
      let next: unknown;
      let keyNode: unknown;
      if (isMap(node)) {
        const pair = items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (isPair(pair)) {
          keyNode = pair.key;
          next = pair.value;
        }
      } else {
        next = items[Number(segment)];
      }
      if (next === undefined && keyNode === undefined) break;
      const anchor = preferKey && segment === path[path.length - 1] && isNode(keyNode) ? keyNode : isNode(next) ? next : keyNode;
      if (isNode(anchor) && anchor.range) best = position(anchor.range[0]);
      node = next;
    }
    return best;
  }

  let data: unknown;
  if (syntaxIssues.length === 0) {
    try {
      // structureIssues already bounded the expansion; this is the library's own guard, kept as a backstop.
      data = doc.toJS({ maxAliasCount: MAX_YAML_ANCHORS });
    } catch (error) {
      syntaxIssues.push({ line: 1, col: 1, path: '', message: `the YAML cannot be read: ${(error as Error).message}` });
    }
  }
  return { file, data, syntaxIssues, locate };
}

interface Frame {
  node: unknown;
  children: unknown[];
  next: number;
  /** Nodes in this subtree with aliases expanded, capped just above MAX_YAML_NODES. */
  total: number;
}

const cap = (n: number) => Math.min(n, MAX_YAML_NODES + 1);
/** An anchor's name, quoted only when it is a key name: `*name` in a file that is not YAML is text of that file. */
const anchorName = (name: string) => (isKeyName(name) ? name : '…');

/**
 * Duplicate keys, unresolvable or self-containing aliases, and documents that are too large once their
 * aliases are expanded, in one linear walk (iterative: nesting depth cannot overflow the stack).
 */
function structureIssues(doc: Document, position: (offset: number) => SourcePosition): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (node: unknown, message: string) => {
    const range = isNode(node) ? node.range : undefined;
    issues.push({ ...(range ? position(range[0]) : { line: 1, col: 1 }), path: '', message });
  };
  // The last node carrying each anchor, in document order: what the `yaml` package resolves an alias to.
  const anchored = new Map<string, unknown>();
  // Expanded size of every anchored node whose subtree is complete.
  const sizes = new Map<unknown, number>();
  let anchors = 0;
  let aliases = 0;
  let firstAlias: unknown;

  const root: Frame = { node: undefined, children: [doc.contents], next: 0, total: 0 };
  const stack: Frame[] = [root];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.children.length) {
      stack.pop();
      if (frame !== root) {
        const total = cap(frame.total + 1);
        if ((frame.node as { anchor?: string }).anchor) sizes.set(frame.node, total);
        const parent = stack[stack.length - 1]!;
        parent.total = cap(parent.total + total);
      }
      continue;
    }
    const node = frame.children[frame.next++];
    if (!isNode(node)) continue;
    if (isAlias(node)) {
      firstAlias ??= node;
      if (++aliases === MAX_YAML_ANCHORS + 1) at(node, `more than ${MAX_YAML_ANCHORS} aliases (*name)`);
      const target = anchored.get(node.source);
      if (target === undefined) at(node, `alias *${anchorName(node.source)} has no anchor &${anchorName(node.source)} before it`);
      else if (!sizes.has(target) && !isScalar(target)) at(node, `alias *${anchorName(node.source)} is inside the node it names`);
      else frame.total = cap(frame.total + (sizes.get(target) ?? 1));
      continue;
    }
    if (node.anchor) {
      if (++anchors === MAX_YAML_ANCHORS + 1) at(node, `more than ${MAX_YAML_ANCHORS} anchors (&name)`);
      anchored.set(node.anchor, node);
    }
    if (isScalar(node)) {
      if (node.anchor) sizes.set(node, 1);
      frame.total = cap(frame.total + 1);
      continue;
    }
    if (isMap(node)) duplicateKeys(node.items, at);
    if (isCollection(node)) {
      const children = node.items.flatMap((item) => (isPair(item) ? [item.key, item.value] : [item]));
      stack.push({ node, children, next: 0, total: 0 });
    }
  }
  if (root.total > MAX_YAML_NODES) {
    at(firstAlias ?? doc.contents, `the document has more than ${MAX_YAML_NODES.toLocaleString('en-US')} nodes once its aliases (*name) are expanded`);
  }
  return issues;
}

function duplicateKeys(items: readonly unknown[], at: (node: unknown, message: string) => void): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (!isPair(item) || !isScalar(item.key)) continue;
    // toJS turns every key into a property name, so `1` and "1" collide as well.
    const key = String(item.key.value);
    if (seen.has(key)) at(item.key, `duplicate key ${shownKey(key)}`);
    seen.add(key);
  }
}

