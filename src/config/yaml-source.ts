/**
 * YAML parsing that remembers where every value came from, so each config problem can be reported as
 * `file:line:col message`.
 */
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';

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

/** Parses YAML text, keeping positions. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const syntaxIssues: ConfigIssue[] = doc.errors.map((error) => ({
    ...position(error.pos[0]),
    path: '',
    message: error.message.split('\n')[0]!,
  }));

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

  const data = syntaxIssues.length > 0 ? undefined : doc.toJS({ maxAliasCount: 100 });
  return { file, data, syntaxIssues, locate };
}

/** `['providers', 0, 'secret']` → `providers[0].secret`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number' || /^[0-9]+$/.test(segment)) return `${text}[${segment}]`;
    return text ? `${text}.${segment}` : segment;
  }, '');
}
