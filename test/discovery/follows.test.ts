/** Ref semantics, one row per rule: what a push must be for a GitRepository, an Argo CD source or an OCIRepository to follow it. */
import { describe, expect, test } from 'bun:test';
import { argoFollows, followsPush, gitRepositoryFollows, ociRepositoryFollows, type PushedRef } from '../../src/discovery/follows.ts';

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
