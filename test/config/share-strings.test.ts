/**
 * Repeated values of a parsed config share one string: a config of thousands of targets repeats `main`,
 * `GitRepository` and `flux-system` in every one of them, and each copy is heap for as long as it serves.
 */
import { describe, expect, test } from 'bun:test';
import { heapStats } from 'bun:jsc';
import { load } from 'js-yaml';
import { LARGE_CONFIG_BYTES } from '../../src/config/limits.ts';
import { shareRepeatedStrings } from '../../src/config/share-strings.ts';
import { parseConfig } from '../../src/config/validate.ts';

const HEADER = `kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }
targets:
`;
const target = (index: number) =>
  `  - { name: t-${index}, providers: [github], match: { repository: org/repo-${index}, branches: [main, "release/*"], paths: [README.md, "docs/**"] }, resources: [{ kind: GitRepository, name: repo-${index}, namespace: flux-system }] }\n`;

function liveStrings(): number {
  Bun.gc(true);
  return heapStats().objectTypeCounts.string ?? 0;
}

describe('shareRepeatedStrings', () => {
  test('leaves the data as it was: nested lists, mappings, numbers, booleans, null', () => {
    const data = { a: ['x', ['x', 'y'], { b: 'x', c: 1, d: true, e: null }], f: 'y', g: [] };
    const before = structuredClone(data);
    // Nodes as the alias-aware bound counts them: each collection, key and scalar (1 + 3 keys + 14 + 1 + 1).
    expect(shareRepeatedStrings(data, false)).toBe(20);
    expect(data).toEqual(before);
  });

  test('a collection that appears twice (a YAML alias) is walked once and stays one object', () => {
    const data = load('base: &base { kind: GitRepository, namespace: flux-system }\none: *base\ntwo: [*base, *base]\n') as Record<string, unknown>;
    shareRepeatedStrings(data, true);
    expect(data.one).toBe(data.base);
    expect((data.two as unknown[])[1]).toBe(data.base);
    expect(data.base).toEqual({ kind: 'GitRepository', namespace: 'flux-system' });
  });

  test('a large config parses to what it says, with its repeated values held once', () => {
    const count = Math.ceil((LARGE_CONFIG_BYTES * 1.5) / target(0).length);
    // One flat string (a join, not a rope of 2,000 pieces the parse would free), counted before the parse.
    const text = [HEADER, ...Array.from({ length: count }, (_, index) => target(index))].join('');
    const before = liveStrings();
    const parsed = parseConfig(text, 'fluxgate.yaml');
    const held = liveStrings() - before;
    expect(parsed.config.targets).toHaveLength(count);
    expect(parsed.config.targets[count - 1]).toEqual({
      name: `t-${count - 1}`,
      providers: ['github'],
      match: { repository: `org/repo-${count - 1}`, branches: ['main', 'release/*'], paths: ['README.md', 'docs/**'] },
      resources: [{ kind: 'GitRepository', name: `repo-${count - 1}`, namespace: 'flux-system' }],
    });
    // Three values are each target's own (name, repository, resource name); the other seven repeat. Unshared,
    // each target would hold ten strings.
    expect(held / count).toBeLessThan(5);
    (globalThis as { keep?: unknown }).keep = parsed;
    delete (globalThis as { keep?: unknown }).keep;
  });
});

describe('shareRepeatedStrings: bounded', () => {
  test('stops once past maxNodes, even on a document that shares one list a billion times over', () => {
    let level: unknown = ['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol'];
    for (let depth = 1; depth <= 9; depth += 1) level = Array(10).fill(level);
    const visited = shareRepeatedStrings({ root: level }, false, 1_000_000);
    expect(visited).toBeGreaterThan(1_000_000);
    expect(visited).toBeLessThan(1_000_100);
  });
});
