/** Ref semantics, one row per rule: what a push must be for a GitRepository, an Argo CD source or an OCIRepository to follow it. */
import { describe, expect, test } from 'bun:test';
import { Range } from 'semver';
import { argoFollows, followsPush, gitRepositoryFollows, MAX_SEMVER_ALTERNATIVES, MAX_SEMVER_RANGE_LENGTH, ociRepositoryFollows, type PushedRef } from '../../src/discovery/follows.ts';

const branch = (name: string, defaultBranch?: string): PushedRef => ({ branch: name, ref: `refs/heads/${name}`, ...(defaultBranch ? { defaultBranch } : {}) });
const tag = (name: string): PushedRef => ({ tag: name, ref: `refs/tags/${name}` });
const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('GitRepository spec.ref', () => {
  const rows: [string, unknown, PushedRef, boolean, string][] = [
    ['branch equal', { branch: 'main' }, branch('main'), true, 'ref branch main'],
    ['branch other', { branch: 'dev' }, branch('main'), false, 'follows branch dev, not branch main'],
    ['branch is not a tag', { branch: 'v1' }, tag('v1'), false, 'follows branch v1, not tag v1'],
    ['tag equal', { tag: 'v1.2.0' }, tag('v1.2.0'), true, 'ref tag v1.2.0'],
    ['tag other', { tag: 'v1.2.0' }, tag('v1.3.0'), false, 'follows tag v1.2.0, not tag v1.3.0'],
    ['tag wins over branch', { tag: 'v1', branch: 'main' }, branch('main'), false, 'follows tag v1, not branch main'],
    ['semver satisfied', { semver: '>=1.0.0 <2.0.0' }, tag('v1.4.2'), true, 'ref semver >=1.0.0 <2.0.0 (tag v1.4.2)'],
    ['semver, Masterminds commas', { semver: '>=1.0.0, <2.0.0' }, tag('1.9.0'), true, 'ref semver >=1.0.0, <2.0.0 (tag 1.9.0)'],
    ['semver outside', { semver: '>=1.0.0, <2.0.0' }, tag('v2.0.0'), false, 'tag v2.0.0 is not in semver >=1.0.0, <2.0.0'],
    ['semver caret', { semver: '^1.2' }, tag('v1.9.9'), true, 'ref semver ^1.2 (tag v1.9.9)'],
    ['semver excludes pre-releases', { semver: '>=1.0.0' }, tag('v1.5.0-rc.1'), false, 'tag v1.5.0-rc.1 is not in semver >=1.0.0'],
    ['semver on a branch push', { semver: '*' }, branch('main'), false, 'follows semver * (tags only), not branch main'],
    ['semver wins over tag', { semver: '1.x', tag: 'v0.1.0' }, tag('v0.1.0'), false, 'tag v0.1.0 is not in semver 1.x'],
    ['semver invalid', { semver: 'not a range' }, tag('v1.0.0'), false, 'semver not a range is not a valid range'],
    ['name equal', { name: 'refs/heads/main' }, branch('main'), true, 'ref refs/heads/main'],
    ['name of a tag', { name: 'refs/tags/v1' }, tag('v1'), true, 'ref refs/tags/v1'],
    ['name wins over branch', { name: 'refs/heads/dev', branch: 'main' }, branch('main'), false, 'follows ref refs/heads/dev, not branch main'],
    ['commit pins', { commit: SHA, branch: 'main' }, branch('main'), false, 'pinned to commit 0123456789ab'],
    ['no ref: master', undefined, branch('master'), true, 'no ref: branch master'],
    ['no ref: the default branch', {}, branch('main', 'main'), true, 'no ref: the default branch main'],
    ['no ref: another branch', {}, branch('dev', 'main'), false, 'no ref follows branch master or the default branch main, not branch dev'],
    ['no ref: a tag', {}, tag('v1'), false, 'follows branch master (no ref), not tag v1'],
  ];
  for (const [name, ref, pushed, follows, why] of rows) {
    test(name, () => {
      expect(followsPush(gitRepositoryFollows(ref), pushed)).toEqual({ follows, why });
    });
  }
});

describe('Argo CD targetRevision', () => {
  const rows: [string, unknown, PushedRef, boolean, string][] = [
    ['HEAD is the default branch', 'HEAD', branch('main', 'main'), true, 'HEAD (default branch main)'],
    ['HEAD, another branch', 'HEAD', branch('dev', 'main'), false, 'follows HEAD (default branch main), not branch dev'],
    ['empty is HEAD', '', branch('trunk', 'trunk'), true, 'HEAD (default branch trunk)'],
    ['HEAD without a known default branch: any branch', undefined, branch('dev'), true, 'HEAD (default branch unknown: branch dev)'],
    ['HEAD is never a tag', 'HEAD', tag('v1'), false, 'follows HEAD (the default branch), not tag v1'],
    ['a branch name', 'release', branch('release'), true, 'revision release (branch)'],
    ['a tag name', 'v1.2.0', tag('v1.2.0'), true, 'revision v1.2.0 (tag)'],
    ['a name that is neither', 'release', branch('main'), false, 'follows revision release, not branch main'],
    ['a full ref', 'refs/heads/main', branch('main'), true, 'ref refs/heads/main'],
    ['a commit is pinned', SHA, branch('main'), false, 'pinned to commit 0123456789ab'],
    ['a semver constraint over tags', '^1.2.0', tag('v1.3.0'), true, 'ref semver ^1.2.0 (tag v1.3.0)'],
    ['a constraint a tag misses', '>=2.0.0', tag('v1.3.0'), false, 'tag v1.3.0 is not in semver >=2.0.0'],
  ];
  for (const [name, revision, pushed, follows, why] of rows) {
    test(name, () => {
      expect(followsPush(argoFollows(revision), pushed)).toEqual({ follows, why });
    });
  }
});

describe('OCIRepository spec.ref', () => {
  test('no ref follows latest; tag, semver and digest as Flux reads them', () => {
    expect(followsPush(ociRepositoryFollows(undefined), tag('latest'))).toEqual({ follows: true, why: 'ref tag latest' });
    expect(followsPush(ociRepositoryFollows(undefined), tag('v1'))).toEqual({ follows: false, why: 'follows tag latest, not tag v1' });
    expect(followsPush(ociRepositoryFollows({ semver: '>=1.0.0', tag: 'x' }), tag('1.2.0'))).toEqual({ follows: true, why: 'ref semver >=1.0.0 (tag 1.2.0)' });
    expect(followsPush(ociRepositoryFollows({ digest: 'sha256:aaaabbbbccccddddeeee', tag: 'v1' }), tag('v1'))).toEqual({ follows: false, why: 'pinned to digest aaaabbbbcccc' });
  });
});

describe('semver ranges are parsed once and bounded', () => {
  /** `1.0.0 || 1.0.1 || …`: every alternative a valid range, none matching everything. */
  const alternatives = (count: number) => Array.from({ length: count }, (_, index) => `1.0.${index}`).join(' || ');

  test('the rule holds the parsed range, so a push only tests the tag', () => {
    for (const rule of [gitRepositoryFollows({ semver: '>=1.0.0, <2.0.0' }), ociRepositoryFollows({ semver: '^1.2' }), argoFollows('~1.4 || ~1.6')]) {
      expect(rule.kind).toBe('semver');
      expect((rule as { compiled: unknown }).compiled).toBeInstanceOf(Range);
    }
  });

  test('a range of 30,000 alternatives (350 KB) is a near miss that says why, for a tag and a branch alike; its text is cut in the reason', () => {
    const huge = alternatives(30_000);
    expect(huge.length).toBeGreaterThan(350_000);
    const rule = gitRepositoryFollows({ semver: huge });
    expect(rule.kind).toBe('unusable-semver');
    const why = `semver range ${huge.slice(0, 64)}… is ${huge.length} characters long, more than the ${MAX_SEMVER_RANGE_LENGTH} fluxgate reads`;
    expect(followsPush(rule, tag('v1.0.0'))).toEqual({ follows: false, why });
    expect(followsPush(rule, branch('main'))).toEqual({ follows: false, why });
    expect(followsPush(ociRepositoryFollows({ semver: huge }), tag('1.0.0'))).toEqual({ follows: false, why });
    // Argo CD: range syntax past the bounds is not taken for a branch name.
    expect(followsPush(argoFollows(huge), tag('v1.0.0'))).toEqual({ follows: false, why });
  });

  test(`more than ${MAX_SEMVER_ALTERNATIVES} alternatives within the length is a near miss; ${MAX_SEMVER_ALTERNATIVES} and a range of exactly ${MAX_SEMVER_RANGE_LENGTH} characters still match`, () => {
    const over = alternatives(MAX_SEMVER_ALTERNATIVES + 1);
    expect(over.length).toBeLessThanOrEqual(MAX_SEMVER_RANGE_LENGTH);
    expect(followsPush(gitRepositoryFollows({ semver: over }), tag('v1.0.0'))).toEqual({ follows: false, why: `semver range ${over.slice(0, 64)}… has ${MAX_SEMVER_ALTERNATIVES + 1} alternatives (||), more than the ${MAX_SEMVER_ALTERNATIVES} fluxgate reads` });
    const most = alternatives(MAX_SEMVER_ALTERNATIVES);
    expect(followsPush(gitRepositoryFollows({ semver: most }), tag('v1.0.31'))).toEqual({ follows: true, why: `ref semver ${most} (tag v1.0.31)` });
    const padded = `>=1.0.0${' '.repeat(MAX_SEMVER_RANGE_LENGTH - 14)}<2.0.0 `;
    expect(padded.length).toBe(MAX_SEMVER_RANGE_LENGTH);
    expect(followsPush(gitRepositoryFollows({ semver: padded }), tag('v1.2.0')).follows).toBe(true);
    expect(followsPush(gitRepositoryFollows({ semver: `${padded} ` }), tag('v1.2.0')).follows).toBe(false);
  });
});
