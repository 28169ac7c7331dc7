/**
 * Argo CD's `argocd.argoproj.io/manifest-generate-paths` as argocd-server applies it to a push (util/app/path:
 * GetSourceRefreshPaths, AppFilesHaveChanged; Go's filepath.Match): the cases of Argo CD's own tests of those
 * functions, then the edges of Go's path rules, then the decision about a discovered Application.
 */
import { describe, expect, test } from 'bun:test';
import { eventKeys } from '../../src/discovery/discovered-object.ts';
import { createDiscoveryIndex } from '../../src/discovery/discovery-index.ts';
import { goPattern, refreshPaths } from '../../src/discovery/manifest-generate-paths.ts';
import { matchDiscovered } from '../../src/discovery/match-discovered.ts';
import type { WatchedObject } from '../../src/kube/informer.ts';
import type { Event } from '../../src/provider-kit/contract.ts';

/** Which of `files` (each pushed alone) concern a source at `sourcePath` with `annotation`. */
function concerned(annotation: string, sourcePath: string, files: string[]): string[] {
  const paths = refreshPaths(annotation, sourcePath);
  if (!paths || 'invalid' in paths) throw new Error(`no refresh paths from ${annotation}`);
  return files.filter((file) => paths.concerns([file]));
}

describe('the refresh paths of a source', () => {
  test('relative items are under the source path, `.` is the path itself, `;;` empty items are skipped', () => {
    const files = ['source/path/app.yaml', 'source/path/dev/deploy/values.yaml', 'source/path/other/path/x.yaml', 'source/other.yaml', 'dev/deploy/x.yaml'];
    expect(concerned('.;dev/deploy;other/path', 'source/path', files)).toEqual(['source/path/app.yaml', 'source/path/dev/deploy/values.yaml', 'source/path/other/path/x.yaml']);
    expect(concerned('dev/deploy;other/path', 'source/path', files)).toEqual(['source/path/dev/deploy/values.yaml', 'source/path/other/path/x.yaml']);
    expect(concerned('.;;', 'source/path', files)).toEqual(['source/path/app.yaml', 'source/path/dev/deploy/values.yaml', 'source/path/other/path/x.yaml']);
  });

  test('an absolute item is from the repository root; `..` climbs from the source path', () => {
    const files = ['fullpath/deploy/a.yaml', 'source/path/other/path/b.yaml', 'source/path/c.yaml', 'source/shared/d.yaml', 'shared/e.yaml'];
    expect(concerned('/fullpath/deploy;other/path', 'source/path', files)).toEqual(['fullpath/deploy/a.yaml', 'source/path/other/path/b.yaml']);
    expect(concerned('../shared', 'source/path', files)).toEqual(['source/shared/d.yaml']);
    expect(concerned('/shared', 'source/path', files)).toEqual(['shared/e.yaml']);
  });

  test('a directory holds what is in it at any depth, not a sibling that starts with its name; the path itself counts', () => {
    expect(concerned('.', 'apps/web', ['apps/web/a.yaml', 'apps/web/deep/er/b.yaml', 'apps/web2/c.yaml', 'apps/web', 'apps/we'])).toEqual(['apps/web/a.yaml', 'apps/web/deep/er/b.yaml', 'apps/web']);
  });

  test('`.` on a source at the repository root, and `/`, hold every file', () => {
    expect(concerned('.', '', ['a.yaml', 'x/y/z.yaml'])).toEqual(['a.yaml', 'x/y/z.yaml']);
    expect(concerned('/', 'apps/web', ['a.yaml', 'x/y/z.yaml'])).toEqual(['a.yaml', 'x/y/z.yaml']);
  });

  test('an item is also a Go filepath.Match pattern: `*` and `?` stay within one directory', () => {
    const files = ['apps/a/values.yaml', 'apps/b/values.yaml', 'apps/a/b/values.yaml', 'apps/values.yaml', 'charts/api/Chart.yaml', 'charts/web/Chart.yaml'];
    expect(concerned('/apps/*/values.yaml', 'ignored', files)).toEqual(['apps/a/values.yaml', 'apps/b/values.yaml']);
    expect(concerned('/charts/[a-c]*/Chart.yaml', 'ignored', files)).toEqual(['charts/api/Chart.yaml']);
    expect(concerned('*.yaml', 'apps', files)).toEqual(['apps/values.yaml']);
  });

  test('a push whose changed files are unknown (a large push) or none concerns every source', () => {
    const paths = refreshPaths('.', 'apps/web')!;
    if ('invalid' in paths) throw new Error(paths.invalid);
    expect([paths.concerns(undefined), paths.concerns([]), paths.concerns(['docs/readme.md'])]).toEqual([true, true, false]);
  });

  test('no annotation or an empty one: no refresh paths (every push); one of only `;` refreshes on every push too', () => {
    expect(refreshPaths(undefined, 'apps')).toBeUndefined();
    expect(refreshPaths('', 'apps')).toBeUndefined();
    const none = refreshPaths(';;', 'apps')!;
    expect('concerns' in none && none.concerns(['docs/readme.md'])).toBe(true);
  });

  test('more than 64 items: not applied, and said so', () => {
    expect(refreshPaths(Array.from({ length: 65 }, (_, i) => `p${i}`).join(';'), 'apps')).toEqual({ invalid: 'argocd.argoproj.io/manifest-generate-paths has more than 64 paths' });
  });
});

describe("Go's filepath.Match grammar", () => {
  const matches = (pattern: string, path: string) => goPattern(pattern)?.test(path) ?? 'malformed';

  test('classes: ranges, `^` negates, `!` is a character, a class may match `/`; escapes', () => {
    expect([matches('/x/[^a]', '/x/b'), matches('/x/[^a]', '/x/a'), matches('/x/[!a]', '/x/!'), matches('/x/[!a]', '/x/b')]).toEqual([true, false, true, false]);
    expect([matches('/x[/]y', '/x/y'), matches('/a\\*', '/a*'), matches('/a\\*', '/ab'), matches('/[\\]]', '/]')]).toEqual([true, true, false, true]);
    expect([matches('/?', '/a'), matches('/?', '/'), matches('/a*', '/a/b')]).toEqual([true, false, false]);
  });

  test('malformed patterns never match: unclosed or empty class, a range ending in `]`, a reversed range, a trailing `\\`', () => {
    for (const pattern of ['/[abc', '/[]', '/[^]', '/[a-]', '/[z-a]', '/a\\', '/[]a]', '/[-a]']) expect(matches(pattern, pattern)).toBe('malformed');
  });

  test('** is two stars, not any depth; {a,b} is literal', () => {
    expect([matches('/a/**/b', '/a/x/b'), matches('/a/**/b', '/a/x/y/b'), matches('/{a,b}', '/a'), matches('/{a,b}', '/{a,b}')]).toEqual([true, false, false, true]);
  });
});

describe('a discovered Application', () => {
  const application = (name: string, annotation: string | undefined, spec: Record<string, unknown>): WatchedObject => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd', ...(annotation !== undefined ? { annotations: { 'argocd.argoproj.io/manifest-generate-paths': annotation } } : {}) },
    spec,
  });
  const push = (changedPaths?: string[]): Event => ({ event: 'push', repositories: ['https://github.com/org/app'], ref: 'refs/heads/main', branch: 'main', defaultBranch: 'main', ...(changedPaths ? { changedPaths } : {}) });
  const source = (path: string, targetRevision = 'main') => ({ repoURL: 'https://github.com/org/app.git', targetRevision, path });

  function decide(objects: WatchedObject[], event: Event) {
    const index = createDiscoveryIndex();
    index.replace(objects);
    const keys = eventKeys(event);
    const { hits, misses } = matchDiscovered(event, keys, index.candidates(keys));
    return { hits: hits.map((hit) => [hit.object.label, hit.rule]), misses: misses.map((miss) => [miss.object.label, miss.why]) };
  }

  const objects = [
    application('web', '.', { source: source('apps/web') }),
    application('api', '.;/shared', { source: source('apps/api') }),
    application('plain', undefined, { source: source('apps/plain') }),
    // Two sources of the pushed repository: the second one's path holds the change.
    application('both', '.', { sources: [source('apps/api-config'), source('apps/web')] }),
    // The source with the changed path follows another branch: not refreshed, as argocd-server would not.
    application('other-branch', '.', { sources: [source('apps/web', 'release'), source('apps/none')] }),
  ];

  test('a push changing apps/web refreshes the Applications whose refresh paths hold it, and those without the annotation', () => {
    const { hits, misses } = decide(objects, push(['apps/web/deployment.yaml']));
    expect(hits).toEqual([
      ['Application argocd/web', 'discovered: Application argocd/web, source https://github.com/org/app.git, revision main (branch), argocd.argoproj.io/manifest-generate-paths "."'],
      ['Application argocd/plain', 'discovered: Application argocd/plain, source https://github.com/org/app.git, revision main (branch)'],
      ['Application argocd/both', 'discovered: Application argocd/both, source https://github.com/org/app.git, revision main (branch), argocd.argoproj.io/manifest-generate-paths "."'],
    ]);
    expect(misses).toEqual([
      ['Application argocd/api', 'no changed path in argocd.argoproj.io/manifest-generate-paths ".;/shared"'],
      ['Application argocd/other-branch', 'no changed path in argocd.argoproj.io/manifest-generate-paths "."'],
    ]);
  });

  test('a change under /shared refreshes the one that lists it; a push without the changed files refreshes all that follow it', () => {
    expect(decide(objects, push(['shared/base.yaml'])).hits.map(([label]) => label)).toEqual(['Application argocd/api', 'Application argocd/plain']);
    expect(decide(objects, push()).hits.map(([label]) => label)).toEqual(['Application argocd/web', 'Application argocd/api', 'Application argocd/plain', 'Application argocd/both', 'Application argocd/other-branch']);
  });

  test('on a GitRepository the annotation means nothing', () => {
    const gitRepository: WatchedObject = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'flux', namespace: 'flux-system', annotations: { 'argocd.argoproj.io/manifest-generate-paths': '/nowhere' } }, spec: { url: 'https://github.com/org/app', ref: { branch: 'main' } } };
    expect(decide([gitRepository], push(['apps/web/x.yaml'])).hits.map(([label]) => label)).toEqual(['GitRepository flux-system/flux']);
  });
});
