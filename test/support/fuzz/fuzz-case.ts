/**
 * One fuzz case: a real delivery, edited, sent through `describe` and `parse` the way the pipeline calls them,
 * with what may go wrong listed: a throw other than the codec's own PayloadError, an answer outside the contract,
 * more reads of the payload than a fixed multiple of its size, or a call that takes seconds.
 */
import { PayloadError, type ProviderCodec } from '../../../src/provider-kit/contract.ts';
import { type ProviderFactory } from '../../../src/provider-kit/kit.ts';
import { deliveryInfoProblems, messageProblems, parsedProblems } from './codec-contract.ts';
import { encode, formatPath } from './json-document.ts';
import { mutateDocument, type DocumentMutation, type FuzzRequest } from './mutations.ts';
import { mutateBytes, mutateHeaders, type BytesMutation, type HeaderMutation } from './wire-mutations.ts';
import type { Seed } from './seeds.ts';
import { meteredKit, workMeter, type ReadPath, type WorkMeter } from './work-meter.ts';

/**
 * Reads of the payload a call may make: a codec reads each value a bounded number of times, so a few per byte of
 * the body (and claims) covers any linear reading — 100,000 list entries are 200 KB or more — while a loop over a
 * list inside a loop over it makes billions.
 */
export const READS_PER_BYTE = 2;
export const READS_BASE = 20_000;
/**
 * Only a pathological blow-up takes this long (a call on a real delivery takes well under a millisecond, on a
 * 1 MiB one tens of milliseconds); it catches what reads do not count, such as a backtracking pattern.
 */
export const CEILING_MS = 3_000;

export interface FuzzCase {
  seed: string;
  document: readonly DocumentMutation[];
  bytes: readonly BytesMutation[];
  headers: readonly HeaderMutation[];
}

/** A codec made with a metered kit, its prepared key and its seeds by name. */
export interface FuzzTarget {
  codec: ProviderCodec<unknown>;
  key: unknown;
  meter: WorkMeter;
  seeds: ReadonlyMap<string, Seed>;
}

export function fuzzTarget(factory: ProviderFactory, options: Record<string, unknown>, seeds: readonly Seed[]): FuzzTarget {
  const meter = workMeter();
  const codec = factory(meteredKit(meter)) as ProviderCodec<unknown>;
  const key = codec.prepare ? codec.prepare({}, options) : {};
  return { codec, key, meter, seeds: new Map(seeds.map((seed) => [seed.name, seed])) };
}

const decoder = new TextDecoder();

/** What went wrong with `fuzzCase` (empty: nothing), each line naming the case. */
export function fuzzProblems(target: FuzzTarget, fuzzCase: FuzzCase): string[] {
  const seed = target.seeds.get(fuzzCase.seed);
  if (!seed) throw new Error(`no seed ${fuzzCase.seed}`);
  let request: FuzzRequest = seed.request;
  for (const mutation of fuzzCase.document) request = mutateDocument(request, mutation);
  const headers = new Headers(seed.headers);
  for (const mutation of fuzzCase.headers) mutateHeaders(headers, mutation);
  const body = mutateBytes(encode(request.body), headers, fuzzCase.bytes);
  // Claims reach parse as the token library decodes them: JSON of the token's (UTF-8) payload.
  const claimBytes = request.claims === undefined ? undefined : encode(request.claims);
  const claims = claimBytes === undefined ? undefined : (JSON.parse(decoder.decode(claimBytes)) as Record<string, unknown>);
  const headerBytes = [...headers].reduce((total, [name, value]) => total + name.length + value.length, 0);

  const problems: string[] = [];
  const timed = <T>(step: string, run: () => T): T => {
    const started = performance.now();
    try {
      return run();
    } finally {
      const elapsed = performance.now() - started;
      if (elapsed > CEILING_MS) problems.push(`${step} took ${Math.round(elapsed)} ms`);
    }
  };

  let info;
  try {
    info = timed('describe', () => target.codec.describe(headers));
  } catch (error) {
    return [`describe threw ${describeError(error)}`].map((line) => `${line}\n  in ${describeCase(fuzzCase)}`);
  }
  problems.push(...deliveryInfoProblems(info));

  target.meter.reset();
  try {
    const parsed = timed('parse', () => target.codec.parse({ body, headers }, { ...info, ...(claims && { claims: target.meter.watch(claims) }) }, target.key));
    problems.push(...parsedProblems(parsed, headerBytes));
  } catch (error) {
    if (error instanceof PayloadError) problems.push(...messageProblems(error.message, headerBytes));
    else problems.push(`parse threw ${describeError(error)}`);
  }
  const budget = READS_BASE + READS_PER_BYTE * (body.length + (claimBytes?.length ?? 0));
  if (target.meter.reads > budget) problems.push(`parse read the payload ${target.meter.reads} times, over ${budget} for ${body.length} bytes`);
  return problems.map((line) => `${line}\n  in ${describeCase(fuzzCase)}`);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return `${error.name}: ${error.message.slice(0, 200)}${error.stack ? `\n${error.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
}

/** The case in words: the fixture, then each edit with its path (a long value cut). */
export function describeCase(fuzzCase: FuzzCase): string {
  const shown = (edit: object) => {
    const text = JSON.stringify(edit);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  };
  const edits = [
    ...fuzzCase.document.map(({ path, ...edit }) => `${formatPath(path)}: ${shown(edit)}`),
    ...fuzzCase.bytes.map((edit) => `body bytes: ${shown(edit)}`),
    ...fuzzCase.headers.map((edit) => `header ${edit.header}: ${shown({ ...edit, header: undefined })}`),
  ];
  return `${fuzzCase.seed}${edits.length ? ` with ${edits.join('; ')}` : ' as published'}`;
}

/** Headers that note in `names` each name they are asked for. */
function noting(init: Record<string, string>, names: Set<string>): Headers {
  const headers = new Headers(init);
  const [get, has] = [headers.get.bind(headers), headers.has.bind(headers)];
  return Object.assign(headers, {
    get: (name: string) => (names.add(name.toLowerCase()), get(name)),
    has: (name: string) => (names.add(name.toLowerCase()), has(name)),
  });
}

/** What `describe` and `parse` read of the seeds: the header names (with those the seeds carry) and, per seed, the paths. */
export interface SeedReads {
  headers: string[];
  paths: ReadonlyMap<string, ReadonlySet<ReadPath>>;
}

export function seedReads(target: FuzzTarget): SeedReads {
  const names = new Set<string>();
  const paths = new Map<string, Set<ReadPath>>();
  for (const seed of target.seeds.values()) {
    const headers = noting(seed.headers, names);
    for (const name of headers.keys()) names.add(name);
    const read = new Set<ReadPath>();
    target.meter.noteInto(read);
    const claims = seed.request.claims === undefined ? undefined : (JSON.parse(decoder.decode(encode(seed.request.claims))) as Record<string, unknown>);
    try {
      target.codec.parse({ body: encode(seed.request.body), headers }, { ...target.codec.describe(headers), ...(claims && { claims: target.meter.watch(claims) }) }, target.key);
    } catch {
      // Only what was read matters here; the seeds' own answers are checked as cases.
    } finally {
      target.meter.noteInto(undefined);
    }
    paths.set(seed.name, read);
  }
  return { headers: [...names].sort(), paths };
}
