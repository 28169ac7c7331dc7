import { describe, expect, test } from 'bun:test';
import type { TargetMatch } from '../../src/config/schema.ts';
import type { Event } from '../../src/provider-kit/contract.ts';
import { compileMatch, createMatchCompiler } from '../../src/pipeline/match.ts';

const REPOS = ['https://github.com/your-org/your-repo', 'git@github.com:your-org/your-repo.git', 'your-org/your-repo'];

/** A GitHub-like push to main of your-org/your-repo that changed one file under apps/. */
function push(overrides: Partial<Event> = {}): Event {
  return {
    event: 'push',
    repositories: REPOS,
    ref: 'refs/heads/main',
    branch: 'main',
    commit: 'abc123',
    changedPaths: ['apps/web/deployment.yaml'],
    ...overrides,
  };
}

function tagPush(tag: string, overrides: Partial<Event> = {}): Event {
  return push({ ref: `refs/tags/${tag}`, branch: undefined, tag, ...overrides });
}

type Case = [name: string, match: TargetMatch | undefined, event: Event, reason: string | null];

const cases: Case[] = [
  // nothing configured
  ['no match block accepts a push', undefined, push(), null],
  ['empty match block accepts a tag', {}, tagPush('v1.0.0'), null],
  ['no match block accepts a ref-less event', undefined, push({ ref: undefined, branch: undefined, changedPaths: undefined }), null],
  ['no match block still ignores a deleted branch', undefined, push({ deleted: true }), 'ref deleted'],

  // repository
  ['slug matches the URL spellings', { repository: 'your-org/your-repo' }, push(), null],
  ['slug is case-insensitive', { repository: 'Your-Org/Your-Repo.git' }, push(), null],
  [
    'other repository is named in the reason',
    { repository: 'your-org/your-repo' },
    push({ repositories: ['https://github.com/org/other', 'org/other'] }),
    'repository github.com/org/other is not your-org/your-repo',
  ],
  [
    'URL pattern does not match another host',
    { repository: 'https://gitlab.com/your-org/your-repo' },
    push(),
    'repository github.com/your-org/your-repo is not https://gitlab.com/your-org/your-repo',
  ],
  [
    'glob miss says "does not match"',
    { repository: 'other-org/*' },
    push(),
    'repository github.com/your-org/your-repo does not match other-org/*',
  ],
  ['org glob matches', { repository: 'github.com/your-org/*' }, push(), null],
  [
    'slug-only event shows the slug',
    { repository: 'your-org/your-repo' },
    push({ repositories: ['Org/Other'] }),
    'repository org/other is not your-org/your-repo',
  ],
  [
    'event without repository',
    { repository: 'your-org/your-repo' },
    push({ repositories: [] }),
    'event names no repository (want your-org/your-repo)',
  ],
  [
    'repository is checked before deletion',
    { repository: 'your-org/your-repo' },
    push({ repositories: ['org/other'], deleted: true }),
    'repository org/other is not your-org/your-repo',
  ],

  // deleted refs
  ['deleted branch', { branches: ['main'] }, push({ deleted: true, changedPaths: [] }), 'ref deleted'],
  ['deleted tag', { tags: ['v*'] }, tagPush('v1', { deleted: true }), 'ref deleted'],

  // branches only
  ['exact branch', { branches: ['main'] }, push(), null],
  ['branch list', { branches: ['main', 'develop'] }, push({ branch: 'develop', ref: 'refs/heads/develop' }), null],
  ['other branch', { branches: ['main'] }, push({ branch: 'feature/x', ref: 'refs/heads/feature/x' }), 'branch feature/x does not match [main]'],
  ['branch names are case-sensitive', { branches: ['main'] }, push({ branch: 'Main' }), 'branch Main does not match [main]'],
  ['release/* matches one level', { branches: ['release/*'] }, push({ branch: 'release/1.2' }), null],
  [
    'release/* does not cross a slash',
    { branches: ['main', 'release/*'] },
    push({ branch: 'release/1/hotfix' }),
    'branch release/1/hotfix does not match [main, release/*]',
  ],
  ['release/** crosses slashes', { branches: ['release/**'] }, push({ branch: 'release/1/hotfix' }), null],
  ['* alone is one segment', { branches: ['*'] }, push({ branch: 'feature/x' }), 'branch feature/x does not match [*]'],
  ['** is every branch', { branches: ['**'] }, push({ branch: 'feature/x' }), null],
  ['brace alternatives', { branches: ['{main,develop}'] }, push({ branch: 'develop' }), null],
  [
    'tag push with only branches',
    { branches: ['main'] },
    tagPush('v1'),
    'tag v1 ignored: watching branches [main]',
  ],
  [
    'ref-less event with only branches',
    { branches: ['main'] },
    push({ ref: undefined, branch: undefined }),
    'event has no branch or tag (watching branches [main])',
  ],
  ['branch derived from ref when the plugin only gives ref', { branches: ['main'] }, push({ branch: undefined }), null],
  ['empty branches list matches no branch', { branches: [] }, push(), 'branch main does not match []'],

  // tags only
  ['tag glob', { tags: ['v*'] }, tagPush('v1.2.3'), null],
  ['tag glob miss', { tags: ['v*'] }, tagPush('release-1'), 'tag release-1 does not match [v*]'],
  ['tag derived from ref', { tags: ['v*'] }, push({ branch: undefined, ref: 'refs/tags/v2' }), null],
  ['branch push with only tags', { tags: ['v*'] }, push(), 'branch main ignored: watching tags [v*]'],
  ['character class in tags', { tags: ['v[0-9]*'] }, tagPush('vnext'), 'tag vnext does not match [v[0-9]*]'],

  // both
  ['both: branch matches', { branches: ['main'], tags: ['v*'] }, push(), null],
  ['both: tag matches', { branches: ['main'], tags: ['v*'] }, tagPush('v3'), null],
  ['both: branch misses', { branches: ['main'], tags: ['v*'] }, push({ branch: 'dev' }), 'branch dev does not match [main]'],
  ['both: tag misses', { branches: ['main'], tags: ['v*'] }, tagPush('nightly'), 'tag nightly does not match [v*]'],
  [
    'both: ref-less event',
    { branches: ['main'], tags: ['v*'] },
    push({ ref: 'refs/pull/1/head', branch: undefined }),
    'event has no branch or tag (watching branches [main] or tags [v*])',
  ],

  // paths
  ['apps/** matches deep paths', { paths: ['apps/**'] }, push({ changedPaths: ['README.md', 'apps/web/prod/kustomization.yaml'] }), null],
  ['apps/** miss', { paths: ['apps/**'] }, push({ changedPaths: ['README.md', 'docs/apps.md'] }), 'no changed path matches [apps/**]'],
  ['apps/** does not match a sibling prefix', { paths: ['apps/**'] }, push({ changedPaths: ['apps-old/x.yaml'] }), 'no changed path matches [apps/**]'],
  ['* stays in one directory', { paths: ['clusters/prod/*.yaml'] }, push({ changedPaths: ['clusters/prod/flux.yaml'] }), null],
  [
    '* does not descend',
    { paths: ['clusters/prod/*.yaml'] },
    push({ changedPaths: ['clusters/prod/apps/flux.yaml'] }),
    'no changed path matches [clusters/prod/*.yaml]',
  ],
  ['**/ matches files at the root too', { paths: ['**/*.yaml'] }, push({ changedPaths: ['kustomization.yaml'] }), null],
  ['one of several globs', { paths: ['infra/**', 'apps/**'] }, push(), null],
  ['leading slash in a pattern is ignored', { paths: ['/apps/**'] }, push(), null],
  ['leading ./ in a pattern is ignored', { paths: ['./apps/**'] }, push(), null],
  ['trailing slash means everything below', { paths: ['apps/'] }, push(), null],
  ['leading slash in a changed path is ignored', { paths: ['apps/**'] }, push({ changedPaths: ['/apps/x.yaml'] }), null],
  ['paths are case-sensitive', { paths: ['apps/**'] }, push({ changedPaths: ['Apps/x.yaml'] }), 'no changed path matches [apps/**]'],
  ['unreported paths pass', { paths: ['apps/**'] }, push({ changedPaths: undefined }), null],
  ['an empty push fails', { paths: ['apps/**'] }, push({ changedPaths: [] }), 'no paths changed (watching [apps/**])'],
  ['empty paths list matches no changed path', { paths: [] }, push(), 'no changed path matches []'],

  // everything together, first failure wins
  [
    'full match',
    { repository: 'your-org/your-repo', branches: ['main'], tags: ['v*'], paths: ['apps/**'] },
    push(),
    null,
  ],
  [
    'branch checked before paths',
    { repository: 'your-org/your-repo', branches: ['main'], paths: ['infra/**'] },
    push({ branch: 'dev' }),
    'branch dev does not match [main]',
  ],
  [
    'paths checked last',
    { repository: 'your-org/your-repo', branches: ['main'], paths: ['infra/**'] },
    push(),
    'no changed path matches [infra/**]',
  ],
];

describe('compileMatch', () => {
  test.each(cases)('%s', (_name, match, event, reason) => {
    const result = compileMatch(match)(event);
    expect(result).toStrictEqual(reason === null ? { matched: true } : { matched: false, reason });
  });

  test('a compiled matcher is reusable across events', () => {
    const match = compileMatch({ branches: ['main'], paths: ['apps/**'] });
    expect(match(push()).matched).toBe(true);
    expect(match(push({ branch: 'dev' })).matched).toBe(false);
    expect(match(push()).matched).toBe(true);
  });

  test.each([
    [{ branches: ['main', '!dev'] }, 'match.branches[1]'],
    [{ tags: ['v{1,2'] }, 'match.tags[0]'],
    [{ paths: ['apps/[ab'] }, 'match.paths[0]'],
    [{ repository: 'https://github.com/' }, 'names no repository'],
  ] as [TargetMatch, string][])('rejects %p at compile time, naming the field', (match, message) => {
    expect(() => compileMatch(match)).toThrow(message);
  });
});

describe('createMatchCompiler', () => {
  test('a match block is compiled once: the loader checks every target with it and serving reuses what it compiled', () => {
    const compiler = createMatchCompiler();
    const match: TargetMatch = { repository: 'your-org/your-repo', branches: ['main'] };
    const first = compiler.compile(match);
    expect(compiler.compile(match)).toBe(first);
    // An equal block elsewhere in the config is another target: its own repository check, the same branch check.
    expect(compiler.compile({ ...match })).not.toBe(first);
    expect(compiler.compile({ ...match })(push())).toEqual({ matched: true });
  });
});

describe('createMatchCompiler: shared checks', () => {
  test('lists that would read alike when joined are still told apart', () => {
    const compiler = createMatchCompiler();
    const split = compiler.compile({ branches: ['a', 'b'] });
    const joined = compiler.compile({ branches: ['a,1:b'] });
    expect(split(push({ branch: 'b', ref: 'refs/heads/b' }))).toEqual({ matched: true });
    expect(joined(push({ branch: 'b', ref: 'refs/heads/b' }))).toMatchObject({ matched: false });
    expect(compiler.compile({ branches: ['main'] })(push())).toEqual({ matched: true });
    expect(compiler.compile({ tags: ['main'] })(push())).toMatchObject({ matched: false });
  });
});
