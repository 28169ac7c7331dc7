/**
 * YAML parsing that remembers where every value came from, so each config problem can be reported as
 * `file:line:col message`, and that refuses documents whose aliases or duplicate keys would cost more than
 * the file's size suggests (see limits.ts).
 */
import { CORE_SCHEMA, load } from 'js-yaml';
import { isKeyName } from './key-name.ts';
import { LARGE_CONFIG_BYTES, MAX_YAML_ANCHORS, MAX_YAML_NODES } from './limits.ts';
import { shareRepeatedStrings } from './share-strings.ts';

/**
 * The exact reader (the `yaml` package) is loaded only when a config needs it — a problem to locate, or a document
 * the fast reader refuses — so a running gateway never holds it (about 7 MiB of a compiled binary's memory).
 */
function readExact(text: string, file: string): YamlSource {
  return (require('./yaml-exact.ts') as typeof import('./yaml-exact.ts')).readExact(text, file);
}

export interface SourcePosition {
  line: number;
  col: number;
}

export interface ConfigIssue extends SourcePosition {
  /** Dotted path of the offending value, e.g. `providers[0].secret`. */
  path: string;
  message: string;
  /** About the file as a whole (it cannot be read): shown as `file: message`, with no made-up line and column. */
  wholeFile?: boolean;
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
  if (fast === TOO_MANY_NODES) {
    // Without aliases nothing is expanded: the count is the document's own, and the exact reader would take
    // seconds to place a million nodes only to say the same at the document's start.
    const start = { line: 1, col: 1 };
    return { file, data: undefined, syntaxIssues: [{ ...start, path: '', message: `the document has more than ${MAX_YAML_NODES.toLocaleString('en-US')} nodes` }], locate: () => start };
  }
  let exact: YamlSource | undefined;
  return { file, data: fast.data, syntaxIssues: [], locate: (path, preferKey) => (exact ??= readExact(text, file)).locate(path, preferKey) };
}

/** Where `*name` can only be an alias: at the start of a line or after a space, `[`, `{` or `,`. */
const ALIAS_LIKE = /(?:^|[\s[{,])\*(?=[^\s*])/gm;

const TOO_MANY_NODES = Symbol('too many nodes');

/**
 * js-yaml's core schema (no timestamps, no merge keys): what the `yaml` package reads by default too. Undefined
 * when the exact reader must decide; TOO_MANY_NODES for a document without aliases past MAX_YAML_NODES.
 */
function readFast(text: string): { data: unknown } | typeof TOO_MANY_NODES | undefined {
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
  // js-yaml's garbage is about 40 times the text's size: with a large config, collected before the checks that
  // follow build on the heap it left (peak RSS with 10,000 targets: 200 → 130 MiB).
  if (text.length >= LARGE_CONFIG_BYTES) Bun.gc(true);
  // Without an alias nothing is shared and nothing can loop: one walk both counts the nodes and shares strings.
  if (aliases === 0) return shareRepeatedStrings(data, false, MAX_YAML_NODES) <= MAX_YAML_NODES ? { data } : TOO_MANY_NODES;
  if (!withinBounds(data)) return undefined;
  shareRepeatedStrings(data, true);
  return { data };
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

/** `['providers', 0, 'secret']` → `providers[0].secret`; a key that is not a key name (see key-name.ts) shows as `…`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number' || /^[0-9]+$/.test(segment)) return `${text}[${segment}]`;
    const shown = isKeyName(segment) ? segment : '…';
    return text ? `${text}.${shown}` : shown;
  }, '');
}
