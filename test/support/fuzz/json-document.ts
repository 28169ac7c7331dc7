/**
 * A JSON document a fuzz test edits and writes back to bytes: every path in it, copy-on-write replacement at a
 * path, and two kinds of node plain JSON cannot hold — bytes written verbatim (invalid UTF-8, 100,000 levels of
 * nesting, `1e400`) and a document carried as base64 inside a string (a Pub/Sub message's `data`), whose own paths
 * are fuzzed like the outer ones.
 */

/** Bytes written as they are where a value goes: what JSON.stringify could not produce. */
export class Raw {
  constructor(readonly bytes: Uint8Array) {}
  /** A placeholder that `encode` swaps for the bytes (JSON.stringify without a replacer is several times faster). */
  toJSON(): string {
    return '\u0001';
  }
}

/** A JSON document inside a string, as base64 of its bytes. */
export class Embedded {
  constructor(readonly document: Doc) {}
  toJSON(): string {
    return Buffer.from(encode(this.document)).toString('base64');
  }
}

export type Doc = null | boolean | number | string | Doc[] | { [key: string]: Doc } | Raw | Embedded;
/** Keys and indexes from the root; `EMBEDDED` steps into the document a string carries. */
export type Path = readonly (string | number)[];
export const EMBEDDED = '(base64)';

/** Where a path points, as a reader would name it: `push.changes[0].new`, `message.data(base64).tag`. */
export function formatPath(path: Path): string {
  if (path.length === 0) return '(root)';
  return path.map((step, index) => (typeof step === 'number' ? `[${step}]` : step === EMBEDDED ? step : index === 0 ? step : `.${step}`)).join('');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `value` with every string that is base64 of a JSON object or array made an Embedded document. */
export function withEmbedded(value: Doc): Doc {
  if (typeof value === 'string') {
    if (value.length < 8 || value.length % 4 !== 0 || !BASE64.test(value)) return value;
    try {
      const inner = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Doc;
      return typeof inner === 'object' && inner !== null ? new Embedded(withEmbedded(inner)) : value;
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(withEmbedded);
  if (value === null || typeof value !== 'object' || value instanceof Raw || value instanceof Embedded) return value;
  const copy: Record<string, Doc> = {};
  for (const [key, item] of Object.entries(value)) define(copy, key, withEmbedded(item));
  return copy;
}

/** Every path of `root`, the root's own included, parents before children. Fixtures are shallow: recursion is fine. */
export function pathsOf(root: Doc): Path[] {
  const found: Path[] = [];
  const walk = (value: Doc, path: Path) => {
    found.push(path);
    if (value instanceof Embedded) walk(value.document, [...path, EMBEDDED]);
    else if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, index]));
    else if (value !== null && typeof value === 'object' && !(value instanceof Raw)) for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
  };
  walk(root, []);
  return found;
}

/** The value at `path`, or undefined when the path does not lead anywhere (an earlier edit changed the shape). */
export function valueAt(root: Doc, path: Path): Doc | undefined {
  let current: Doc | undefined = root;
  for (const step of path) current = child(current, step);
  return current;
}

/** Marks a value to be removed: the key deleted from its object, the entry from its array. */
export const DELETE = Symbol('delete');

/**
 * `root` with the value at `path` replaced by `edit(value)` (or removed for DELETE), copying only the containers on
 * the way; the fixture itself is never changed. A path that no longer leads anywhere leaves `root` as it is.
 * Removing the root gives undefined: an empty body.
 */
export function replaceAt(root: Doc, path: Path, edit: (value: Doc) => Doc | typeof DELETE): Doc | undefined {
  if (path.length === 0) {
    const replaced = edit(root);
    return replaced === DELETE ? undefined : replaced;
  }
  const [step, ...rest] = path;
  const inner = child(root, step!);
  if (inner === undefined) return root;
  const replaced = rest.length === 0 ? edit(inner) : (replaceAt(inner, rest, edit) ?? DELETE);
  if (root instanceof Embedded) return replaced === DELETE ? root : new Embedded(replaced);
  if (Array.isArray(root)) {
    const copy = [...root];
    if (replaced === DELETE) copy.splice(step as number, 1);
    else copy[step as number] = replaced;
    return copy;
  }
  const copy = { ...(root as Record<string, Doc>) }; // a spread defines keys: an own `__proto__` stays a key
  if (replaced === DELETE) delete copy[step as string];
  else define(copy, step as string, replaced);
  return copy;
}

function child(value: Doc | undefined, step: string | number): Doc | undefined {
  if (value instanceof Embedded) return step === EMBEDDED ? value.document : undefined;
  if (Array.isArray(value)) return typeof step === 'number' ? value[step] : undefined;
  if (value === null || typeof value !== 'object' || value instanceof Raw || typeof step !== 'string') return undefined;
  return Object.hasOwn(value, step) ? value[step] : undefined;
}

/** Sets an own property even for `__proto__` (an assignment would set the prototype instead of a key). */
export function define(target: Record<string, Doc>, key: string, value: Doc): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const encoder = new TextEncoder();
/** How JSON.stringify writes a Raw's placeholder (the control character escaped, so no string of a fixture is one). */
const PLACEHOLDER = '"\\u0001"';

/** The bytes of `root`: its JSON, with Raw nodes written verbatim and Embedded ones as base64 of their bytes. */
export function encode(root: Doc | undefined): Uint8Array {
  if (root === undefined) return new Uint8Array();
  const raws = rawsOf(root);
  const text = JSON.stringify(root);
  if (raws.length === 0) return encoder.encode(text);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const raw of raws) {
    const at = text.indexOf(PLACEHOLDER, from);
    parts.push(encoder.encode(text.slice(from, at)), raw.bytes);
    from = at + PLACEHOLDER.length;
  }
  parts.push(encoder.encode(text.slice(from)));
  return Buffer.concat(parts);
}

/** The Raw nodes of `root` in the order JSON.stringify writes them (an Embedded document encodes its own). */
function rawsOf(root: Doc): Raw[] {
  const found: Raw[] = [];
  const walk = (value: Doc) => {
    if (value instanceof Raw) found.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object' && !(value instanceof Embedded)) Object.values(value).forEach(walk);
  };
  walk(root);
  return found;
}
