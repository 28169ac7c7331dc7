/**
 * Fuzz cases. Enumerated, with no randomness: every cheap edit at every path a codec reads, every header edit,
 * and every size attack on every list, string and object it reads. Drawn by fast-check: one to three edits of any
 * kind anywhere (the expensive ones rarely, so a run stays fast), maybe an edit of the encoded body, maybe of the
 * headers.
 */
import fc from 'fast-check';
import { EMBEDDED, pathsOf, type Doc, type Path } from './json-document.ts';
import { ADDED_KEYS, BACKTRACKING, FILLERS, FRAGMENTS, kindAt, REPLACEMENTS, type DocumentMutation } from './mutations.ts';
import { FORMS, HEADER_EDITS, HEADER_WORDS, INSERTED_BYTES, type BytesMutation, type HeaderMutation } from './wire-mutations.ts';
import type { FuzzCase } from './fuzz-case.ts';
import type { Seed } from './seeds.ts';
import type { ReadPath } from './work-meter.ts';

/** One value of each JSON type and the two words that reach an object's prototype: tried at every path. */
const EVERY_PATH: readonly Doc[] = [null, true, 0, 'x', [], {}, '__proto__', 'constructor'];

const single = (seed: Seed, mutation: DocumentMutation): FuzzCase => ({ seed: seed.name, document: [mutation], bytes: [], headers: [] });

/**
 * Every path of `seed` that the codec reads, removed and replaced by each of EVERY_PATH; every object it reads given
 * each prototype key. A value the codec never reads cannot change what it does, so the other paths are left to
 * the random cases.
 */
export function everyPathCases(seed: Seed, read: ReadonlySet<ReadPath>): FuzzCase[] {
  return readPathsOf(seed, read).flatMap((path) => [
    single(seed, { kind: 'delete', path }),
    ...EVERY_PATH.map((value) => single(seed, { kind: 'replace', path, value })),
    ...(kindAt(seed.request, path) === 'object' ? ['__proto__', 'constructor', 'toString'].map((key) => single(seed, { kind: 'add-key', path, key, value: 'x' })) : []),
  ]);
}

/** The body of `seed` empty, cut, behind a BOM, with bytes that are not UTF-8, and form-encoded every way. */
export function everyBytesCase(seed: Seed): FuzzCase[] {
  const edits: BytesMutation[] = [
    { kind: 'empty' },
    { kind: 'truncate', at: 0.5 },
    { kind: 'bom' },
    ...INSERTED_BYTES.map((bytes) => ({ kind: 'insert' as const, at: 0.5, bytes })),
    ...FORMS.map((as) => ({ kind: 'form' as const, as })),
  ];
  return edits.map((edit) => ({ seed: seed.name, document: [], bytes: [edit], headers: [] }));
}

/** Every header of `names` given each edit, on `seed`. */
export function everyHeaderCases(seed: Seed, names: readonly string[]): FuzzCase[] {
  const edits: HeaderMutation[] = names.flatMap((header) => HEADER_EDITS.flatMap((edit): HeaderMutation[] => (edit === 'word' ? HEADER_WORDS.map((word) => ({ header, edit, word })) : [{ header, edit }])));
  return edits.map((mutation) => ({ seed: seed.name, document: [], bytes: [], headers: [mutation] }));
}

/**
 * Size attacks on what the codec reads of `seed`, skipping paths an earlier seed of the same codec had (`done`
 * holds them): each list long three ways; each string 1 MiB and each backtracking run; each object whose keys the
 * codec lists 100,000 keys (an object it only picks fields from costs the same at any size); each document
 * 100,000 levels deep (the random cases nest deeper paths).
 */
export function sizeCases(seed: Seed, read: ReadonlySet<ReadPath>, done: Set<string>): FuzzCase[] {
  const cases: FuzzCase[] = [];
  readPathsOf(seed, read).forEach((path, index) => {
    const within = relative(path);
    const where = JSON.stringify(path.map((step) => (typeof step === 'number' ? 0 : step)));
    if (done.has(where)) return;
    done.add(where);
    const kind = kindAt(seed.request, path);
    if (kind === 'list') for (const entries of ['copies', 'distinct', 'tiny'] as const) cases.push(single(seed, { kind: 'huge-list', path, entries }));
    if (kind === 'string') {
      cases.push(single(seed, { kind: 'huge-string', path, filler: FILLERS[index % FILLERS.length]! }));
      for (const run of BACKTRACKING) cases.push(single(seed, { kind: 'backtracking-string', path, ...run }));
    }
    if (kind === 'object' && read.has(JSON.stringify([...within, '*']))) cases.push(single(seed, { kind: 'huge-object', path }));
    if ((kind === 'list' || kind === 'object') && within.length === 0) cases.push(single(seed, { kind: 'deep', path, shape: kind === 'list' ? 'arrays' : 'objects' }));
  });
  return cases;
}

/** Paths below the request's own fields (`body`, `claims`: the documents). */
function editablePaths(seed: Seed): Path[] {
  return pathsOf(seed.request as Doc).filter((path) => path.length >= 1);
}

/** A path within its own document: after `body`/`claims`, or after the last base64 step. */
function relative(path: Path): Path {
  const embedded = path.lastIndexOf(EMBEDDED);
  return embedded >= 0 ? path.slice(embedded + 1) : path.slice(1);
}

function readPathsOf(seed: Seed, read: ReadonlySet<ReadPath>): Path[] {
  return editablePaths(seed).filter((path) => {
    const within = relative(path);
    return within.length === 0 || read.has(JSON.stringify(within)) || read.has(JSON.stringify([...within.slice(0, -1), '*']));
  });
}

/** A random case on one of `seeds`: edits of its documents, maybe of its bytes, maybe of its headers. */
export function fuzzCaseArbitrary(seeds: readonly Seed[], reads: ReadonlyMap<string, ReadonlySet<ReadPath>>, headerNames: readonly string[]): fc.Arbitrary<FuzzCase> {
  return fc.oneof(...seeds.map((seed) => caseOf(seed, readPathsOf(seed, reads.get(seed.name) ?? new Set()), headerNames)));
}

function caseOf(seed: Seed, readPaths: readonly Path[], headerNames: readonly string[]): fc.Arbitrary<FuzzCase> {
  // Mostly where the codec reads; sometimes anywhere (an earlier edit may have sent it elsewhere).
  const path = readPaths.length === 0 ? fc.constantFrom(...editablePaths(seed)) : fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...readPaths) }, { weight: 1, arbitrary: fc.constantFrom(...editablePaths(seed)) });
  const value = fc.constantFrom(...REPLACEMENTS);
  const edit = fc.oneof(
    { weight: 30, arbitrary: fc.record({ kind: fc.constant('delete' as const), path }) },
    { weight: 60, arbitrary: fc.record({ kind: fc.constant('replace' as const), path, value }) },
    { weight: 15, arbitrary: fc.record({ kind: fc.constant('add-key' as const), path, key: fc.constantFrom(...ADDED_KEYS), value }) },
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('fragment' as const), path, fragment: fc.constantFrom(...Object.keys(FRAGMENTS)) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('huge-string' as const), path, filler: fc.constantFrom(...FILLERS) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('backtracking-string' as const), path, run: fc.constantFrom(...BACKTRACKING) }).map(({ run, ...rest }) => ({ ...rest, ...run })) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('huge-list' as const), path, entries: fc.constantFrom('copies' as const, 'distinct' as const, 'tiny' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge-object' as const), path }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('deep' as const), path, shape: fc.constantFrom('arrays' as const, 'objects' as const) }) },
  ) as fc.Arbitrary<DocumentMutation>;
  const at = fc.integer({ min: 0, max: 1000 }).map((permille) => permille / 1000);
  const bytes = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.constantFrom(...INSERTED_BYTES) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'bom' as const }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('form' as const), as: fc.constantFrom(...FORMS) }) },
  ) as fc.Arbitrary<BytesMutation>;
  const header = () => fc.record({ header: fc.constantFrom(...headerNames), edit: fc.constantFrom(...HEADER_EDITS), word: fc.constantFrom(...HEADER_WORDS) }) as fc.Arbitrary<HeaderMutation>;
  return fc.record({
    seed: fc.constant(seed.name),
    document: fc.array(edit, { minLength: 1, maxLength: 3 }),
    bytes: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(bytes, { minLength: 1, maxLength: 1 }) }),
    headers: headerNames.length === 0 ? fc.constant([]) : fc.array(header(), { maxLength: 2 }),
  });
}
