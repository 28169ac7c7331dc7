/**
 * YAML parsing that remembers where every value came from, so each config problem can be reported as
 * `file:line:col message`, and that refuses documents whose aliases or duplicate keys would cost more than
 * the file's size suggests (see limits.ts).
 */
import { CORE_SCHEMA, load } from 'js-yaml';
import { isAlias, isCollection, isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { MAX_YAML_ANCHORS, MAX_YAML_NODES } from './limits.ts';

export interface SourcePosition {
  line: number;
  col: number;
}

export interface ConfigIssue extends SourcePosition {
  /** Dotted path of the offending value, e.g. `providers[0].secret`. */
  path: string;
  message: string;
}

export interface YamlSource {
  file: string;
  /** The plain data, or undefined when the YAML itself is broken. */
  data: unknown;
  /** YAML syntax problems (the data is unusable when there are any). */
  syntaxIssues: ConfigIssue[];
  /** Position of the value at a JSON-pointer-like path (`['providers', 0, 'secret']`); falls back to the nearest ancestor. */
  locate(path: readonly (string | number)[], preferKey?: boolean): SourcePosition;
}

/**
 * Parses YAML text, keeping positions.
 *
 * Two readers, one result. The fast one (js-yaml: about 6x quicker than the `yaml` package on a 10,000-target
 * config) reads every well-formed config; positions are then worked out only when a problem needs one, by the
 * exact reader. The exact one (the `yaml` package, with its source positions) reads whatever the fast one refuses
 * or cannot bound — syntax errors, duplicate keys, many anchors, aliases that expand too far — so those get the
 * same located messages as always.
 *
 * @example
 * const source = parseYamlSource('server:\n  address: 127.0.0.1:9292\n', 'fluxgate.yaml');
 * source.locate(['server', 'address']); // { line: 2, col: 12 }
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const fast = readFast(text);
  if (fast === undefined) return readExact(text, file);
  let exact: YamlSource | undefined;
  return { file, data: fast.data, syntaxIssues: [], locate: (path, preferKey) => (exact ??= readExact(text, file)).locate(path, preferKey) };
}

/** Where `*name` can only be an alias: at the start of a line or after a space, `[`, `{` or `,`. */
const ALIAS_LIKE = /(?:^|[\s[{,])\*(?=[^\s*])/gm;

/** js-yaml's core schema (no timestamps, no merge keys): what the `yaml` package reads by default too. */
function readFast(text: string): { data: unknown } | undefined {
  // A document with many anchors or aliases goes to the exact reader, which counts them (they are rare in a
  // config). These counts may include a `&` or ` *` inside a quoted string: then the exact reader decides.
  let ampersands = 0;
  for (let index = text.indexOf('&'); index !== -1; index = text.indexOf('&', index + 1)) if (++ampersands > MAX_YAML_ANCHORS) return undefined;
  let aliases = 0;
  for (const _ of text.matchAll(ALIAS_LIKE)) if (++aliases > MAX_YAML_ANCHORS) return undefined;
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined; // syntax, duplicate keys, anything: the exact reader says where and why
  }
  return withinBounds(data) ? { data } : undefined;
}

/**
 * Whether the parsed document stays within MAX_YAML_NODES once its aliases are expanded and reuses collections
 * (aliases) at most MAX_YAML_ANCHORS times, without cycles: one walk, each shared collection sized once.
 */
function withinBounds(root: unknown): boolean {
  const sizes = new Map<object, number>();
  const open = new Set<object>();
  let aliases = 0;
  type Frame = { node: object; children: unknown[]; next: number; total: number };
  const frames: Frame[] = [];
  let total = 0;
  const visit = (value: unknown): number | undefined => {
    if (value === null || typeof value !== 'object') return 1;
    const known = sizes.get(value);
    if (known !== undefined) {
      aliases += 1;
      return known;
    }
    if (open.has(value)) return Number.POSITIVE_INFINITY; // a collection inside itself
    open.add(value);
    const children = Array.isArray(value) ? value : Object.entries(value).flat();
    frames.push({ node: value, children, next: 0, total: 1 });
    return undefined;
  };
  const first = visit(root);
  if (first !== undefined) return first <= MAX_YAML_NODES;
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.next === frame.children.length) {
      frames.pop();
      open.delete(frame.node);
      sizes.set(frame.node, frame.total);
      const size = Math.min(frame.total, MAX_YAML_NODES + 1);
      if (frames.length === 0) total = size;
      else frames[frames.length - 1]!.total += size;
      continue;
    }
    const size = visit(frame.children[frame.next++]);
    if (size !== undefined) frame.total += Math.min(size, MAX_YAML_NODES + 1);
    if (frame.total > MAX_YAML_NODES || aliases > MAX_YAML_ANCHORS) return false;
  }
  return total <= MAX_YAML_NODES;
}

/** The `yaml` package's reading: source positions, located syntax errors, duplicate keys and alias bounds. */
function readExact(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // uniqueKeys compares each key with every earlier key of its mapping (quadratic): duplicates are found
  // by structureIssues in one pass instead.
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const syntaxIssues: ConfigIssue[] = doc.errors.map((error) => ({
    ...position(error.pos[0]),
    path: '',
    message: error.message.split('\n')[0]!,
  }));
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
const shown = (key: string) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);

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
      if (target === undefined) at(node, `alias *${node.source} has no anchor &${node.source} before it`);
      else if (!sizes.has(target) && !isScalar(target)) at(node, `alias *${node.source} is inside the node it names`);
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
    if (seen.has(key)) at(item.key, `duplicate key ${shown(key)}`);
    seen.add(key);
  }
}

/** `['providers', 0, 'secret']` → `providers[0].secret`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number' || /^[0-9]+$/.test(segment)) return `${text}[${segment}]`;
    return text ? `${text}.${segment}` : segment;
  }, '');
}
