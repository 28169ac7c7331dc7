/**
 * What an attacker does to the JSON of a real delivery, as small printable descriptions (a failing case names its
 * fixture, the path and the edit, nothing random) and the code that applies them: type confusion and deleted keys
 * at any path, prototype keys and words, unicode oddities, invalid UTF-8, 1 MiB strings, backtracking runs,
 * 100,000-entry lists and objects, 100,000 levels of nesting. Edits of the bytes and headers: wire-mutations.ts.
 */
import { DELETE, define, Raw, replaceAt, valueAt, type Doc, type Path } from './json-document.ts';

export const MiB = 1024 * 1024;

/** The request a fuzz case edits: the body as a document and, for OIDC providers, the verified token's claims. */
export interface FuzzRequest {
  body?: Doc;
  claims?: Doc;
}

export const HUGE_COUNT = 100_000;
/**
 * A list of likenesses of an object (a commit) is as long as fits in 1 MiB, thousands of entries: a loop over it
 * inside a loop over it reads it millions of times, far beyond the work bound. Lists of strings (paths, names) are
 * 100,000 long whatever their size.
 */
export const LIST_BYTES = MiB;
export const DEEP = 100_000;

/** Values put in place of another: every JSON type, prototype words, unicode oddities, look-alike refs and ids. */
export const REPLACEMENTS: readonly Doc[] = [
  null, true, false, 0, -1, 1.5, 1e21, 9007199254740993, '', 'x', [], {}, [null], { '': null },
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf',
  '\ud800', 'a\udc00b', 'a\u0000b', '\u202egnp.exe', '\u200b', 'e\u0301', '\ufeffmain', '👍🏽', 'ｍａｉｎ', '\n\r\t',
  'refs/heads/', 'refs/tags/', 'refs/heads/../../x', '0000000000000000000000000000000000000000', 'sha256:', '/', '//', ':', '@', '.',
];

/** Keys added to an object: prototype keys, the empty key, a lone surrogate. */
export const ADDED_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '\ud800'] as const;

/** What a 1 MiB string is made of: characters patterns look for (`/`, `:`, `@`, `.`), and others. */
export const FILLERS = ['a', '/', ':', '@', '.', '0', ' ', '/:', 'a/', '@:', 'é', '\u0000', '\ud83d\ude00', 'refs/heads/'] as const;
/**
 * A run of one character and another at the end: what makes a backtracking pattern quadratic (`/\/+$/` on
 * `////…x`, `/[:@][^/]*$/` on `::::…/`). 64 KiB of it, not 1 MiB: there such a pattern takes seconds, which the
 * test's ceiling reports; on 1 MiB it would take hours, and a running pattern cannot be interrupted.
 */
export const BACKTRACKING = [
  { filler: '/', last: 'x' },
  { filler: ':', last: '/' },
  { filler: '@', last: '/' },
  { filler: '.', last: '/' },
  { filler: '0', last: 'x' },
  { filler: ' ', last: 'x' },
] as const;
export const BACKTRACKING_LENGTH = 64 * 1024;

/** Bytes JSON.stringify cannot write, placed where a value goes. */
export const FRAGMENTS: Record<string, string | number[]> = {
  'invalid UTF-8 in a string': [0x22, 0xff, 0xfe, 0x22],
  'overlong NUL in a string': [0x22, 0xc0, 0x80, 0x22],
  'UTF-8 surrogate in a string': [0x22, 0xed, 0xa0, 0x80, 0x22],
  'cut multi-byte sequence in a string': [0x22, 0x61, 0xe2, 0x82, 0x22],
  'number beyond double range': '1e400',
  'negative zero': '-0',
  'duplicated key': '{"a":1,"a":{"a":[]}}',
};

/** An edit of the document at `path`. */
export type DocumentMutation =
  | { kind: 'delete'; path: Path }
  | { kind: 'replace'; path: Path; value: Doc }
  | { kind: 'add-key'; path: Path; key: string; value: Doc }
  | { kind: 'huge-string'; path: Path; filler: string }
  | { kind: 'backtracking-string'; path: Path; filler: string; last: string }
  | { kind: 'huge-list'; path: Path; entries: 'copies' | 'distinct' | 'tiny' }
  | { kind: 'huge-object'; path: Path }
  | { kind: 'deep'; path: Path; shape: 'arrays' | 'objects' }
  | { kind: 'fragment'; path: Path; fragment: string };

/** `request` with `mutation` applied (a path that an earlier edit removed leaves it as it is). */
export function mutateDocument(request: FuzzRequest, mutation: DocumentMutation): FuzzRequest {
  const root = request as Doc;
  const edited = replaceAt(root, mutation.path, (value) => replacement(value, mutation));
  return (edited ?? {}) as FuzzRequest;
}

function replacement(value: Doc, mutation: DocumentMutation): Doc | typeof DELETE {
  switch (mutation.kind) {
    case 'delete':
      return DELETE;
    case 'replace':
      return mutation.value;
    case 'add-key': {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Raw) return value;
      const copy: Record<string, Doc> = {};
      for (const [key, item] of Object.entries(value)) define(copy, key, item);
      define(copy, mutation.key, mutation.value);
      return copy;
    }
    case 'huge-string':
      return mutation.filler.repeat(Math.ceil(MiB / mutation.filler.length));
    case 'backtracking-string':
      return `${mutation.filler.repeat(BACKTRACKING_LENGTH)}${mutation.last}`;
    case 'huge-list':
      return hugeList(value, mutation.entries);
    case 'huge-object':
      return raw(`{${Array.from({ length: HUGE_COUNT }, (_, index) => `"k${index}":${index}`).join(',')}}`);
    case 'deep':
      return mutation.shape === 'arrays' ? raw(`${'['.repeat(DEEP)}${']'.repeat(DEEP)}`) : raw(`${'{"a":'.repeat(DEEP)}null${'}'.repeat(DEEP)}`);
    case 'fragment': {
      const bytes = FRAGMENTS[mutation.fragment]!;
      return typeof bytes === 'string' ? raw(bytes) : new Raw(Uint8Array.from(bytes));
    }
  }
}

function raw(text: string): Raw {
  return new Raw(new TextEncoder().encode(text));
}

/**
 * A long list (see LIST_BYTES): copies of a small likeness of its first entry (the same commit thousands of times,
 * the same path 100,000 times), likenesses with every string distinct, or 100,000 tiny values of the entry's type.
 */
function hugeList(value: Doc, entries: 'copies' | 'distinct' | 'tiny'): Doc {
  const first = Array.isArray(value) && value.length > 0 ? value[0]! : value;
  if (entries === 'tiny') {
    const tiny = typeof first === 'string' ? '"x"' : typeof first === 'number' ? '0' : Array.isArray(first) ? '[]' : first !== null && typeof first === 'object' ? '{}' : 'null';
    return raw(`[${Array(HUGE_COUNT).fill(tiny).join(',')}]`);
  }
  const small = likeness(first, 0) ?? null;
  const text = JSON.stringify(small);
  const count = typeof first === 'string' ? HUGE_COUNT : Math.max(1, Math.min(HUGE_COUNT, Math.floor(LIST_BYTES / (text.length + 8))));
  if (entries === 'copies') return raw(`[${Array(count).fill(text).join(',')}]`);
  // Each copy's strings end in the copy's number: distinct commits with distinct paths, distinct names.
  return raw(`[${Array.from({ length: count }, (_, index) => JSON.stringify(numbered(small, index))).join(',')}]`);
}

function numbered(value: Doc, index: number): Doc {
  if (typeof value === 'string') return `${value}-${index}`;
  if (Array.isArray(value)) return value.map((item) => numbered(item, index));
  if (value === null || typeof value !== 'object' || value instanceof Raw) return value === null ? `${index}` : value;
  const copy: Record<string, Doc> = {};
  for (const [key, item] of Object.entries(value as Record<string, Doc>)) define(copy, key, numbered(item, index));
  return copy;
}

/** A small copy of a value: strings cut to 16 characters, lists to their first entry, two levels deep. */
function likeness(value: Doc, depth: number): Doc | undefined {
  if (typeof value === 'string') return value.slice(0, 16);
  if (value === null || typeof value !== 'object' || value instanceof Raw) return value;
  if (Array.isArray(value)) return depth >= 2 || value.length === 0 ? [] : [likeness(value[0]!, depth + 1) ?? null];
  if (depth >= 2) return {};
  const copy: Record<string, Doc> = {};
  for (const [key, item] of Object.entries(value as Record<string, Doc>)) {
    const small = likeness(item, depth + 1);
    if (small !== undefined) define(copy, key, small);
  }
  return copy;
}

/** Whether `path` leads to an object (where `add-key` applies) or a list. */
export function kindAt(request: FuzzRequest, path: Path): 'object' | 'list' | 'string' | 'other' {
  const value = valueAt(request as Doc, path);
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'string';
  return value !== null && typeof value === 'object' && !(value instanceof Raw) ? 'object' : 'other';
}
