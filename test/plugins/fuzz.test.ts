/**
 * A fuzz test of every built-in codec's `describe` and `parse`, driven by the catalog and fed the real published
 * deliveries in `test/plugins/<type>/fixtures/`: whatever an attacker makes of a delivery (see test/support/fuzz/),
 * a codec answers within the provider contract or throws its own PayloadError (a 400), never anything else (a 500);
 * and it reads the payload at most a fixed number of times per byte, so no list makes it quadratic.
 *
 * Deterministic: every path it reads gets every cheap edit, the body every edit of its bytes, every header every
 * edit, everything it reads every size attack; then FUZZ_RUNS random cases (default 40) per type from fast-check
 * with FUZZ_SEED (fixed by default). A failure names the fixture, each edit and its path, and fast-check prints
 * the seed and path to replay it:
 * `FUZZ_SEED=<seed> FUZZ_RUNS=2000 bun test test/plugins/fuzz.test.ts -t github`.
 */
import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { builtinProviders } from '../../plugins/index.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { everyBytesCase, everyHeaderCases, everyPathCases, fuzzCaseArbitrary, sizeCases } from '../support/fuzz/arbitraries.ts';
import { fuzzProblems, fuzzTarget, seedReads, type FuzzCase, type FuzzTarget } from '../support/fuzz/fuzz-case.ts';
import { optionsOf, seedsOf } from '../support/fuzz/seeds.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? 424242);

/** The problems of `cases`, at most a few (one bug tends to fail hundreds of cases the same way). */
function problemsOf(target: FuzzTarget, cases: readonly FuzzCase[]): string[] {
  const found: string[] = [];
  for (const fuzzCase of cases) {
    found.push(...fuzzProblems(target, fuzzCase));
    if (found.length >= 5) break;
  }
  return found;
}

for (const { default: factory } of builtinProviders) {
  const type = factory(providerKit).id;
  const seeds = seedsOf(type);
  const options = optionsOf(type);

  describe(`fuzz ${type}`, () => {
    const target = fuzzTarget(factory, options, seeds);
    const reads = seedReads(target);
    const readBy = (name: string) => reads.paths.get(name)!;

    test('has published deliveries to fuzz, each answered within the contract as it is', () => {
      expect(seeds.length).toBeGreaterThan(0);
      const schema = target.codec.options;
      if (schema) expect([...Value.Errors(schema, Value.Default(schema, structuredClone(options)))]).toEqual([]);
      expect(problemsOf(target, seeds.map((seed) => ({ seed: seed.name, document: [], bytes: [], headers: [] })))).toEqual([]);
    });

    test('every path it reads: removed, each JSON type, prototype words and keys', () => {
      expect(problemsOf(target, seeds.flatMap((seed) => everyPathCases(seed, readBy(seed.name))))).toEqual([]);
    });

    test('the body bytes: empty, cut, behind a BOM, not UTF-8, form-encoded (payload=…) every way', () => {
      expect(problemsOf(target, seeds.flatMap(everyBytesCase))).toEqual([]);
    });

    test('every header it reads: missing, empty, duplicated, 1 MiB, odd case, prototype words', () => {
      expect(problemsOf(target, seeds.flatMap((seed) => everyHeaderCases(seed, reads.headers)))).toEqual([]);
    });

    test('everything it reads made huge: 100,000 entries, keys or levels, 1 MiB strings, backtracking runs', () => {
      const done = new Set<string>();
      expect(problemsOf(target, seeds.flatMap((seed) => sizeCases(seed, readBy(seed.name), done)))).toEqual([]);
    });

    test(`random attacks: ${RUNS} cases from seed ${SEED}`, () => {
      const property = fc.property(fuzzCaseArbitrary(seeds, reads.paths, reads.headers), (fuzzCase) => {
        const problems = fuzzProblems(target, fuzzCase);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      });
      fc.assert(property, { seed: SEED, numRuns: RUNS, includeErrorInReport: true });
    });
  });
}
