/**
 * The fuzz harness fails where it should: codecs broken on purpose — a TypeError on a confused type, a loop over a
 * payload list inside a loop over it, a payload value looked up in a plain object, a reason quoting 1 MiB of the
 * body, a describe that throws — are each reported, naming the case, on fluxgate's own documented payload.
 */
import { describe, expect, test } from 'bun:test';
import generic from '../../plugins/generic/codec.ts';
import type { ProviderFactory } from '../../src/provider-kit/kit.ts';
import { fuzzProblems, fuzzTarget, type FuzzCase } from '../support/fuzz/fuzz-case.ts';
import { seedsOf } from '../support/fuzz/seeds.ts';

const SEED = 'docs/generic';
const seeds = seedsOf('generic').filter((seed) => seed.name === SEED);
const problemsOf = (factory: ProviderFactory, document: FuzzCase['document'], headers: FuzzCase['headers'] = []) =>
  fuzzProblems(fuzzTarget(factory, {}, seeds), { seed: SEED, document, bytes: [], headers }).join('\n');

/** The generic codec with `parse` (or `describe`) replaced by a broken one. */
const broken = (replace: (kit: Parameters<ProviderFactory>[0]) => Partial<ReturnType<ProviderFactory>>): ProviderFactory => (kit) => ({ ...generic(kit), ...replace(kit) });

describe('the fuzz harness reports', () => {
  test('the real codec on the published payload: nothing', () => {
    expect(problemsOf(generic, [])).toBe('');
  });

  test('a TypeError from a type the codec did not check', () => {
    const unchecked = broken((kit) => ({ parse: (request) => ({ events: [{ event: 'push', repositories: [(kit.json(request.body) as any).ref.slice(11)] }] }) }));
    expect(problemsOf(unchecked, [{ kind: 'replace', path: ['body', 'ref'], value: 0 }])).toMatch(/^parse threw TypeError: [^\n]*\n(.|\n)*in docs\/generic with body\.ref: \{"kind":"replace","value":0\}$/);
  });

  test('a loop over a payload list inside a loop over it, by the reads it makes, not by time', () => {
    const quadratic = broken((kit) => ({
      parse(request) {
        const paths = kit.read(kit.json(request.body)).list('paths') as string[];
        const distinct = paths.filter((path, index) => paths.indexOf(path) === index); // indexOf per entry
        return { events: [{ event: 'push', repositories: ['org/app'], changedPaths: distinct.slice(0, 10) }] };
      },
    }));
    // 600 paths (4 KB): about 360,000 reads (indexOf reads an entry and its index), where a linear codec may make
    // 20,000 + 2 per byte; a third of a second, long before it would be slow.
    const paths = Array.from({ length: 600 }, (_, index) => `p${index}`);
    expect(problemsOf(quadratic, [{ kind: 'replace', path: ['body', 'paths'], value: paths }])).toMatch(/^parse read the payload \d{6} times, over 2\d{4} for 4\d{3} bytes\n/);
  });

  test('a payload value looked up in a plain object', () => {
    const KINDS: Record<string, string> = { push: 'push' };
    const lookup = broken((kit) => ({ parse: (request) => ({ events: [{ event: KINDS[kit.read(kit.json(request.body)).string('ref')] ?? 'push', repositories: ['org/app'] }] }) }));
    expect(problemsOf(lookup, [{ kind: 'replace', path: ['body', 'ref'], value: 'constructor' }])).toStartWith('events[0]: event is function, not a string');
  });

  test('a reason quoting 1 MiB of the body', () => {
    const echo = broken((kit) => ({ parse: (request) => kit.ignore(`unknown ref ${kit.read(kit.json(request.body)).string('ref')}`) }));
    expect(problemsOf(echo, [{ kind: 'huge-string', path: ['body', 'ref'], filler: 'a' }])).toStartWith('ignored reason is 1048588 characters long');
  });

  test('a describe that throws on a header it expected', () => {
    const strict = broken(() => ({ describe: (headers) => ({ event: headers.get('x-event')!.toLowerCase() }) }));
    expect(problemsOf(strict, [], [{ header: 'x-event', edit: 'delete' }])).toStartWith('describe threw TypeError');
  });
});
