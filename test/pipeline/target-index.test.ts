/** The target index: a delivery evaluates the targets of what it names, plus those without a literal filter. */
import { describe, expect, test } from 'bun:test';
import type { TargetMatch } from '../../src/config/schema.ts';
import type { CompiledTarget } from '../../src/pipeline/compile.ts';
import { compileMatch } from '../../src/pipeline/match.ts';
import { matchTargets } from '../../src/pipeline/match-targets.ts';
import type { Event } from '../../src/provider-kit/contract.ts';
import { indexKeysOf, indexTargets } from '../../src/pipeline/target-index.ts';

function target(name: string, match?: TargetMatch): CompiledTarget {
  return { name, match: compileMatch(match), selectors: [], keys: indexKeysOf(match) };
}
const push = (...repositories: string[]): Event => ({ event: 'push', repositories, ref: 'refs/heads/main', branch: 'main' });
const image = (name: string, tag = 'v1'): Event => ({ event: 'push', repositories: [], image: { name, tag }, tag });
const names = (list: CompiledTarget[]) => list.map((t) => t.name);

describe('indexKeysOf', () => {
  test.each<[string, TargetMatch | undefined, string[]]>([
    ['no match block', undefined, []],
    ['a slug: under its path, any host', { repository: 'Org/App' }, ['path:org/app']],
    ['a URL: under host and path', { repository: 'git@github.com:org/app.git' }, ['repo:github.com/org/app']],
    ['a glob: evaluated for every delivery', { repository: 'org/*' }, []],
    ['literal images', { images: ['nginx', 'ghcr.io/org/app:1'] }, ['image:docker.io/library/nginx', 'image:ghcr.io/org/app']],
    ['an image glob: every delivery', { images: ['ghcr.io/org/*'] }, []],
    ['branches alone: every delivery', { branches: ['main'] }, []],
  ])('%s', (_name, match, keys) => expect(indexKeysOf(match)).toEqual(keys));
});

describe('candidates', () => {
  const targets = [
    target('slug', { repository: 'org/app' }),
    target('github-only', { repository: 'https://github.com/org/app' }),
    target('gitlab-only', { repository: 'gitlab.com/org/app' }),
    target('glob', { repository: 'org/*' }),
    target('other', { repository: 'org/other' }),
    target('anything'),
    target('nginx', { images: ['nginx'] }),
  ];
  const index = indexTargets(targets, (t) => t.keys);

  test('a push finds the targets of its repository (any spelling) and the always-evaluated ones, in config order', () => {
    expect(names(index.candidates([push('git@github.com:Org/App.git', 'org/app')]).targets)).toEqual(['slug', 'github-only', 'glob', 'anything']);
    expect(index.candidates([push('https://gitlab.com/org/app')])).toEqual({ targets: [targets[0]!, targets[2]!, targets[3]!, targets[5]!], others: 3 });
  });

  test('an image event finds the targets of its normalized image', () => {
    expect(names(index.candidates([image('index.docker.io/library/nginx')]).targets)).toEqual(['glob', 'anything', 'nginx']);
  });

  test('several events: the union, each target once', () => {
    expect(names(index.candidates([push('github.com/org/app'), push('github.com/org/other'), image('nginx')]).targets)).toEqual(['slug', 'github-only', 'glob', 'other', 'anything', 'nginx']);
  });

  test('10,000 targets on 10,000 repositories: a push evaluates one', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => target(`t${i}`, { repository: `org/repo-${i}`, branches: ['main'] }));
    const big = indexTargets(many, (t) => t.keys);
    expect(big.candidates([push('https://github.com/org/repo-4242.git')])).toEqual({ targets: [many[4242]!], others: 9_999 });
  });
});

describe('matchTargets with the index', () => {
  test('a repository no target watches says so, and how many targets watch others', () => {
    const provider = { name: 'hub', targets: indexTargets([target('a', { repository: 'org/a' }), target('b', { repository: 'org/b' })], (t) => t.keys) };
    expect(matchTargets(provider, [push('https://github.com/org/c')]).reason).toBe('no target watches repository github.com/org/c (2 targets watch other repositories or images)');
    expect(matchTargets(provider, [image('ghcr.io/org/app')]).reason).toBe('no target watches image ghcr.io/org/app (2 targets watch other repositories or images)');
  });

  test('evaluated targets give their reasons, at most ten, then how many more', () => {
    const list = Array.from({ length: 12 }, (_, i) => target(`t${i}`, { repository: 'org/app', branches: ['release'] }));
    const { reason, targets } = matchTargets({ name: 'hub', targets: indexTargets([...list, target('x', { repository: 'org/x' })], (t) => t.keys) }, [push('org/app')]);
    expect(targets).toEqual([]);
    expect(reason).toStartWith('no target matched (t0: branch main does not match [release]; t1: ');
    expect(reason).toEndWith('; and 2 more; 1 target watches other repositories or images)');
  });
});
