/**
 * The index and the decisions about each object it finds: URL forms filed together, re-filing on change,
 * suspended and opted-out objects, `fluxgate.io/paths`, Argo CD's several sources, images for registry pushes.
 */
import { describe, expect, test } from 'bun:test';
import { eventKeys } from '../../src/discovery/discovered-object.ts';
import { createDiscoveryIndex } from '../../src/discovery/discovery-index.ts';
import { matchDiscovered } from '../../src/discovery/match-discovered.ts';
import type { Event } from '../../src/provider-kit/contract.ts';
import type { WatchedObject } from '../../src/kube/informer.ts';

function gitRepository(name: string, url: string, ref?: Record<string, string>, extra: { annotations?: Record<string, string>; suspend?: boolean; namespace?: string } = {}): WatchedObject {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name, namespace: extra.namespace ?? 'flux-system', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { url, interval: '5m', ...(ref ? { ref } : {}), ...(extra.suspend !== undefined ? { suspend: extra.suspend } : {}) },
  };
}

/** A GitHub push as the github codec reads it: every spelling GitHub sends. */
function push(branch: string, extra: Partial<Event> = {}): Event {
  return {
    event: 'push',
    repositories: ['Org/App', 'https://github.com/Org/App', 'https://github.com/Org/App.git', 'git@github.com:Org/App.git', 'git://github.com/Org/App.git'],
    ref: `refs/heads/${branch}`,
    branch,
    defaultBranch: 'main',
    ...extra,
  };
}

function decide(objects: WatchedObject[], event: Event) {
  const index = createDiscoveryIndex();
  index.replace(objects);
  const keys = eventKeys(event);
  const { hits, misses } = matchDiscovered(event, keys, index.candidates(keys));
  return { hits: hits.map((hit) => [hit.object.label, hit.rule]), misses: misses.map((miss) => [miss.object.label, miss.why]) };
}

describe('filing by normalized repository URL', () => {
  test('https, ssh, scp-like, .git, case and ports are one repository; other hosts and other repositories are not', () => {
    const same = [
      'https://github.com/org/app',
      'https://github.com/Org/App.git',
      'ssh://git@github.com/org/app.git',
      'ssh://git@ssh.github.com:443/org/app.git',
      'git@github.com:org/app.git',
      'https://user@github.com:443/org/app/',
    ];
    const objects = [
      ...same.map((url, i) => gitRepository(`same-${i}`, url, { branch: 'main' })),
      gitRepository('other-host', 'https://gitlab.com/org/app', { branch: 'main' }),
      gitRepository('other-repo', 'https://github.com/org/app-config', { branch: 'main' }),
      gitRepository('no-url', ''),
    ];
    const { hits, misses } = decide(objects, push('main'));
    expect(hits.map(([label]) => label).sort()).toEqual(same.map((_, i) => `GitRepository flux-system/same-${i}`).sort());
    expect(misses).toEqual([]);
  });

  test('a sender that gives only a slug finds the repository on any host; one that names a host, only there', () => {
    const objects = [gitRepository('github', 'https://github.com/org/app', { branch: 'main' }), gitRepository('gitlab', 'https://gitlab.com/org/app', { branch: 'main' })];
    expect(decide(objects, { event: 'push', repositories: ['org/app'], branch: 'main' }).hits.map(([label]) => label).sort()).toEqual(['GitRepository flux-system/github', 'GitRepository flux-system/gitlab']);
    expect(decide(objects, { event: 'push', repositories: ['org/app', 'https://gitlab.com/org/app'], branch: 'main' }).hits.map(([label]) => label)).toEqual(['GitRepository flux-system/gitlab']);
  });

  test('a changed URL is re-filed, a deleted object is dropped', () => {
    const index = createDiscoveryIndex();
    index.replace([gitRepository('app', 'https://github.com/org/app', { branch: 'main' })]);
    const app = eventKeys(push('main'));
    const moved = eventKeys({ event: 'push', repositories: ['https://github.com/org/moved'], branch: 'main' });
    expect(index.candidates(app)).toHaveLength(1);
    index.upsert(gitRepository('app', 'git@github.com:org/moved.git', { branch: 'main' }));
    expect(index.candidates(app)).toHaveLength(0);
    expect(index.candidates(moved)).toHaveLength(1);
    expect(index.size).toBe(1);
    index.remove(gitRepository('app', 'ignored-on-remove'));
    expect(index.candidates(moved)).toHaveLength(0);
    expect(index.size).toBe(0);
  });
});

describe('what is reconciled, and the near misses', () => {
  test('the rule that found each object, and why the others of the repository were not', () => {
    const objects = [
      gitRepository('main', 'https://github.com/org/app', { branch: 'main' }),
      gitRepository('dev', 'https://github.com/org/app', { branch: 'dev' }),
      gitRepository('pinned', 'https://github.com/org/app', { branch: 'main', commit: '0123456789abcdef0123456789abcdef01234567' }),
      gitRepository('paused', 'https://github.com/org/app', { branch: 'main' }, { suspend: true }),
      gitRepository('opted-out', 'https://github.com/org/app', { branch: 'main' }, { annotations: { 'fluxgate.io/ignore': 'true' } }),
      gitRepository('default', 'https://github.com/org/app'),
    ];
    const { hits, misses } = decide(objects, push('main'));
    expect(hits).toEqual([
      ['GitRepository flux-system/main', 'discovered: GitRepository flux-system/main, url https://github.com/org/app, ref branch main'],
      ['GitRepository flux-system/default', 'discovered: GitRepository flux-system/default, url https://github.com/org/app, no ref: the default branch main'],
    ]);
    expect(misses).toEqual([
      ['GitRepository flux-system/dev', 'follows branch dev, not branch main'],
      ['GitRepository flux-system/pinned', 'pinned to commit 0123456789ab'],
      ['GitRepository flux-system/paused', 'suspended (spec.suspend: true)'],
      ['GitRepository flux-system/opted-out', 'ignored (fluxgate.io/ignore: "true")'],
    ]);
  });

  test('fluxgate.io/paths: a changed path must match; unreported paths pass; a bad pattern is not applied, and said so', () => {
    const objects = [
      gitRepository('apps', 'https://github.com/org/app', { branch: 'main' }, { annotations: { 'fluxgate.io/paths': 'apps/**, ./shared/' } }),
      gitRepository('infra', 'https://github.com/org/app', { branch: 'main' }, { annotations: { 'fluxgate.io/paths': 'infra/**' } }),
      gitRepository('broken', 'https://github.com/org/app', { branch: 'main' }, { annotations: { 'fluxgate.io/paths': 'apps/{x' } }),
    ];
    const changed = decide(objects, push('main', { changedPaths: ['shared/base.yaml'] }));
    expect(changed.hits).toEqual([
      ['GitRepository flux-system/apps', 'discovered: GitRepository flux-system/apps, url https://github.com/org/app, ref branch main, paths apps/**, ./shared/'],
      ['GitRepository flux-system/broken', expect.stringContaining('(fluxgate.io/paths: pattern[0]: ')],
    ]);
    expect(changed.hits[1]![1]).toEndWith(': not applied)');
    expect(changed.misses).toEqual([['GitRepository flux-system/infra', 'no changed path matches [infra/**] (fluxgate.io/paths)']]);
    // GitHub did not list the paths (a long push): the filter passes, as match.paths does.
    expect(decide(objects, push('main')).hits.map(([label]) => label)).toEqual(['GitRepository flux-system/apps', 'GitRepository flux-system/infra', 'GitRepository flux-system/broken']);
  });

  test('Argo CD Applications: spec.source and spec.sources[]; Helm chart sources are not Git repositories', () => {
    const application = (name: string, spec: Record<string, unknown>): WatchedObject => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd' }, spec });
    const objects = [
      application('single', { source: { repoURL: 'https://github.com/org/app.git', targetRevision: 'HEAD', path: 'deploy' } }),
      application('multi', { sources: [{ repoURL: 'https://charts.example.com', chart: 'app', targetRevision: '1.2.3' }, { repoURL: 'git@github.com:org/app.git', targetRevision: 'main', ref: 'values' }] }),
      application('release', { source: { repoURL: 'https://github.com/org/app', targetRevision: 'release' } }),
      application('chart-only', { source: { repoURL: 'https://github.com/org/app', chart: 'app', targetRevision: 'main' } }),
    ];
    const { hits, misses } = decide(objects, push('main'));
    expect(hits).toEqual([
      ['Application argocd/single', 'discovered: Application argocd/single, source https://github.com/org/app.git, HEAD (default branch main)'],
      ['Application argocd/multi', 'discovered: Application argocd/multi, source git@github.com:org/app.git, revision main (branch)'],
    ]);
    expect(misses).toEqual([['Application argocd/release', 'follows revision release, not branch main']]);
  });

  test('Argo CD Applications with spec.sources: spec.source beside it is not used, as Argo CD does not use it', () => {
    const application = (name: string, spec: Record<string, unknown>): WatchedObject => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd' }, spec });
    const objects = [
      application('both', { source: { repoURL: 'https://github.com/org/app.git', targetRevision: 'main' }, sources: [{ repoURL: 'https://github.com/org/config.git', targetRevision: 'main' }] }),
      application('empty-sources', { source: { repoURL: 'https://github.com/org/app.git', targetRevision: 'main' }, sources: [] }),
    ];
    expect(decide(objects, push('main')).hits.map(([label]) => label)).toEqual(['Application argocd/empty-sources']);
  });

  test('registry pushes: ImageRepositories by spec.image (any tag), OCIRepositories by URL and ref', () => {
    const objects: WatchedObject[] = [
      { apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', metadata: { name: 'app', namespace: 'flux-system' }, spec: { image: 'ghcr.io/org/app' } },
      { apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', metadata: { name: 'paused', namespace: 'flux-system' }, spec: { image: 'ghcr.io/org/app', suspend: true } },
      { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata: { name: 'semver', namespace: 'flux-system' }, spec: { url: 'oci://ghcr.io/org/app', ref: { semver: '>=1.0.0' } } },
      { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata: { name: 'latest', namespace: 'flux-system' }, spec: { url: 'oci://ghcr.io/org/app' } },
      { apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', metadata: { name: 'nginx', namespace: 'flux-system' }, spec: { image: 'nginx' } },
    ];
    // Kinds are indexed apart in discovery (one index each); here one index holds them, names do not collide.
    const tagged = decide(objects, { event: 'package', repositories: [], image: { name: 'GHCR.io/Org/App', tag: 'v1.4.0' }, tag: 'v1.4.0' });
    expect(tagged.hits).toEqual([
      ['ImageRepository flux-system/app', 'discovered: ImageRepository flux-system/app, image ghcr.io/org/app, tag v1.4.0'],
      ['OCIRepository flux-system/semver', 'discovered: OCIRepository flux-system/semver, url oci://ghcr.io/org/app, ref semver >=1.0.0 (tag v1.4.0)'],
    ]);
    expect(tagged.misses).toEqual([
      ['ImageRepository flux-system/paused', 'suspended (spec.suspend: true)'],
      ['OCIRepository flux-system/latest', 'follows tag latest, not tag v1.4.0'],
    ]);
    expect(decide(objects, { event: 'push', repositories: [], image: { name: 'library/nginx', tag: '1.27' }, tag: '1.27' }).hits.map(([label]) => label)).toEqual(['ImageRepository flux-system/nginx']);
  });

  test('an ImageRepository skips the tags its exclusionList leaves out: Flux’s default ^.*\\.sig$ when unset, none when empty', () => {
    const imageRepository = (name: string, exclusionList?: unknown): WatchedObject => ({
      apiVersion: 'image.toolkit.fluxcd.io/v1',
      kind: 'ImageRepository',
      metadata: { name, namespace: 'flux-system' },
      spec: { image: 'ghcr.io/org/app', ...(exclusionList !== undefined ? { exclusionList } : {}) },
    });
    const objects = [imageRepository('default'), imageRepository('dev', ['^dev-', '(?i)-RC[0-9]+$']), imageRepository('none', []), imageRepository('broken', ['(?<=v)1', '^dev-'])];
    const pushed = (tag: string) => decide(objects, { event: 'package', repositories: [], image: { name: 'ghcr.io/org/app', tag }, tag });

    // A cosign signature: only the object that keeps the default skips it.
    expect(pushed('sha256-1a2b3c.sig').misses).toEqual([['ImageRepository flux-system/default', 'tag sha256-1a2b3c.sig is excluded by exclusionList ^.*\\.sig$']]);
    // An explicit list replaces the default; Go's (?i) flag and unanchored matching, as Flux reads them.
    expect(pushed('dev-42').misses).toEqual([
      ['ImageRepository flux-system/dev', 'tag dev-42 is excluded by exclusionList ^dev-'],
      ['ImageRepository flux-system/broken', 'tag dev-42 is excluded by exclusionList ^dev-'],
    ]);
    expect(pushed('v2.0.0-rc1').misses).toEqual([['ImageRepository flux-system/dev', 'tag v2.0.0-rc1 is excluded by exclusionList (?i)-RC[0-9]+$']]);
    const release = pushed('v2.0.0');
    expect(release.misses).toEqual([]);
    // A pattern RE2 cannot read (a lookbehind) excludes nothing, and the record says it was ignored.
    expect(release.hits.find(([label]) => label === 'ImageRepository flux-system/broken')?.[1]).toMatch(/tag v2\.0\.0 \(exclusionList: not RE2, ignored: \(\?<=v\)1 \(/);
  });

  test('an exclusionList pattern against a long hostile tag stays linear (RE2, not a backtracking RegExp)', () => {
    const objects: WatchedObject[] = [
      { apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', metadata: { name: 'app', namespace: 'flux-system' }, spec: { image: 'ghcr.io/org/app', exclusionList: ['^(a+)+$'] } },
    ];
    // With JavaScript's RegExp this tag takes longer than the universe has left; with RE2 it is one pass.
    const tag = `${'a'.repeat(5_000)}!`;
    expect(decide(objects, { event: 'package', repositories: [], image: { name: 'ghcr.io/org/app', tag }, tag }).hits.map(([label]) => label)).toEqual(['ImageRepository flux-system/app']);
  });
});
