/**
 * Discovery at run time on in-memory APIs (test/support/fake-watch-api.ts) and a manual clock: what a delivery's
 * events become (exact-name selectors per cluster, each with its rule), the answers when nothing is found, objects
 * changing under it, several clusters, and a stop() that ends every watch.
 */
import { describe, expect, test } from 'bun:test';
import { createDiscovery, type DiscoveryOptions } from '../../src/discovery/discovery.ts';
import type { Event } from '../../src/provider-kit/contract.ts';
import { fakeClusterApi, fakeWatchApi, type FakeWatchApi } from '../support/fake-watch-api.ts';
import { manualClock, settle } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const KINDS = [
  { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', plural: 'gitrepositories' },
  { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', plural: 'ocirepositories' },
  { apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', plural: 'imagerepositories' },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', plural: 'applications' },
];

/** A cluster with every kind served (Argo CD's absent when `argo` is false). */
function cluster(options: { argo?: boolean } = {}) {
  const [git, oci, image, application] = KINDS.map((kind) => fakeWatchApi(kind)) as [FakeWatchApi, FakeWatchApi, FakeWatchApi, FakeWatchApi];
  application.served = options.argo ?? true;
  return { git, oci, image, application, api: fakeClusterApi([git, oci, image, application], KINDS) };
}

function start(clusters: { name?: string; api: ReturnType<typeof cluster>['api'] }[], settings: Partial<DiscoveryOptions['settings']> = {}) {
  const clock = manualClock();
  const log = memoryLogger();
  const discovery = createDiscovery({ settings: { kinds: ['GitRepository', 'OCIRepository', 'ImageRepository', 'Application'], ...settings }, clusters, clock, log, informer: { random: () => 0.5 } });
  return { discovery, clock, log };
}

const push = (branch: string, repository = 'org/app'): Event => ({
  event: 'push',
  repositories: [repository, `https://github.com/${repository}`, `git@github.com:${repository}.git`],
  ref: `refs/heads/${branch}`,
  branch,
  defaultBranch: 'main',
});

function gitRepository(namespace: string, name: string, url: string, branch?: string) {
  return { metadata: { name, namespace }, spec: { url, ...(branch ? { ref: { branch } } : {}) } };
}

describe('a delivery becomes exact-name selectors, each with the rule that found it', () => {
  test('Flux sources and Argo CD Applications of the pushed repository and branch; the others are near misses', async () => {
    const c = cluster();
    c.git.put(gitRepository('flux-system', 'app', 'https://github.com/org/app.git', 'main'));
    c.git.put(gitRepository('team-a', 'app-dev', 'ssh://git@github.com/Org/App', 'dev'));
    c.git.put(gitRepository('team-b', 'other', 'https://github.com/org/other', 'main'));
    c.application.put({ metadata: { name: 'app', namespace: 'argocd' }, spec: { source: { repoURL: 'git@github.com:org/app.git', targetRevision: 'HEAD' } } });
    const { discovery } = start([{ api: c.api }]);
    discovery.start();
    await settle();

    const found = discovery.find('github', [push('main')])!;
    expect(found.requests.map((request) => request.selector)).toEqual([
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app',
        annotation: { key: 'reconcile.fluxcd.io/requestedAt' }, key: expect.any(String), label: 'GitRepository flux-system/app',
      },
      {
        apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name: 'app',
        annotation: { key: 'argocd.argoproj.io/refresh', fixedValue: 'normal' }, key: expect.any(String), label: 'Application argocd/app',
      },
    ]);
    expect(found.requests.map((request) => request.rule)).toEqual([
      'discovered: GitRepository flux-system/app, url https://github.com/org/app.git, ref branch main',
      'discovered: Application argocd/app, source git@github.com:org/app.git, HEAD (default branch main)',
    ]);
    expect(found.misses).toEqual(['GitRepository team-a/app-dev: follows branch dev, not branch main']);
    expect(found.requests.every((request) => request.cluster === undefined && request.selector.clusters === undefined)).toBe(true);
    await discovery.stop();
  });

  test('objects created, changed and deleted while it runs are found, re-filed and dropped', async () => {
    const c = cluster();
    const { discovery } = start([{ api: c.api }]);
    discovery.start();
    await settle();
    const names = () => discovery.find('github', [push('main')])!.requests.map((request) => request.selector.label);
    expect(names()).toEqual([]);
    c.git.put(gitRepository('ns', 'late', 'https://github.com/org/app', 'main'));
    await settle();
    expect(names()).toEqual(['GitRepository ns/late']);
    c.git.put(gitRepository('ns', 'late', 'https://github.com/org/app', 'dev')); // another branch
    await settle();
    expect(names()).toEqual([]);
    c.git.put(gitRepository('ns', 'late', 'https://github.com/org/elsewhere', 'main')); // another URL
    await settle();
    expect(names()).toEqual([]);
    expect(discovery.find('github', [push('main', 'org/elsewhere')])!.requests.map((request) => request.selector.label)).toEqual(['GitRepository ns/late']);
    c.git.remove('ns', 'late');
    await settle();
    expect(discovery.find('github', [push('main', 'org/elsewhere')])!.requests).toEqual([]);
    await discovery.stop();
  });
});

describe('when nothing is found', () => {
  test('says whether nothing uses the repository or what the near misses were, bounded; a deleted ref finds nothing', async () => {
    const c = cluster();
    for (let i = 0; i < 14; i++) c.git.put(gitRepository('ns', `dev-${String(i).padStart(2, '0')}`, 'https://github.com/org/app', 'dev'));
    const { discovery } = start([{ api: c.api }]);
    discovery.start();
    await settle();
    expect(discovery.find('github', [push('main', 'org/unknown')])!.reason).toBe('no watched object uses repository github.com/org/unknown');
    const missed = discovery.find('github', [push('main')])!;
    expect(missed.requests).toEqual([]);
    expect(missed.misses).toHaveLength(11);
    expect(missed.misses.at(-1)).toBe('and 4 more');
    expect(missed.reason).toStartWith('no watched object follows this push (GitRepository ns/dev-00: follows branch dev, not branch main; ');
    expect(missed.reason).toEndWith('; and 4 more)');
    expect(discovery.find('github', [{ ...push('dev'), deleted: true }])!).toMatchObject({ requests: [], reason: 'ref deleted' });
    await discovery.stop();
  });

  test('before a kind has been listed its objects are unknown, and the answer says so; an absent kind is known to be empty', async () => {
    const c = cluster({ argo: false });
    c.git.failNext('list', [new Error('connection refused')]);
    const { discovery, clock } = start([{ api: c.api }]);
    discovery.start();
    await settle();
    expect(discovery.find('github', [push('main')])!).toMatchObject({ reason: 'no watched object uses repository github.com/org/app; not listed yet: GitRepository', unlisted: ['GitRepository'] });
    expect(discovery.status()).toEqual([
      { kind: 'GitRepository', state: 'backing-off', problem: 'connection refused', objects: 0, synced: false },
      { kind: 'OCIRepository', state: 'watching', objects: 0, synced: true },
      { kind: 'ImageRepository', state: 'watching', objects: 0, synced: true },
      { kind: 'Application', state: 'kind-absent', problem: 'argoproj.io/v1alpha1 is not served by https://fake.invalid (is its CRD installed?)', objects: 0, synced: true },
    ]);
    await clock.advance(clock.nextDelay()!);
    const listed = discovery.find('github', [push('main')])!;
    expect({ reason: listed.reason, unlisted: listed.unlisted }).toEqual({ reason: 'no watched object uses repository github.com/org/app', unlisted: undefined });
    await discovery.stop();
  });

  test('a provider outside discovery.providers does not use discovery', async () => {
    const c = cluster();
    const { discovery } = start([{ api: c.api }], { providers: ['github'] });
    expect(discovery.find('gitlab', [push('main')])).toBeUndefined();
    expect(discovery.find('github', [push('main')])).toBeDefined();
  });
});

describe('several clusters, namespaces and kinds', () => {
  test('each object is requested in its own cluster; near misses name the cluster', async () => {
    const eu = cluster();
    const us = cluster();
    eu.git.put(gitRepository('flux-system', 'app', 'https://github.com/org/app', 'main'));
    us.git.put(gitRepository('flux-system', 'app', 'https://github.com/org/app', 'main'));
    us.git.put(gitRepository('flux-system', 'app-dev', 'https://github.com/org/app', 'dev'));
    const { discovery } = start([{ name: 'eu', api: eu.api }, { name: 'us', api: us.api }]);
    discovery.start();
    await settle();
    const found = discovery.find('github', [push('main')])!;
    expect(found.requests.map((request) => [request.cluster, request.selector.clusters, request.selector.label])).toEqual([
      ['eu', ['eu'], 'GitRepository flux-system/app'],
      ['us', ['us'], 'GitRepository flux-system/app'],
    ]);
    expect(new Set(found.requests.map((request) => request.selector.key)).size).toBe(2);
    expect(found.misses).toEqual(['cluster us: GitRepository flux-system/app-dev: follows branch dev, not branch main']);
    expect(discovery.status().map((watch) => [watch.cluster, watch.kind, watch.objects])).toContainEqual(['us', 'GitRepository', 2]);
    await discovery.stop();
  });

  test('namespaces and kinds narrow what is watched; stop() leaves no watch open and no timer', async () => {
    const c = cluster();
    c.git.put(gitRepository('team-a', 'app', 'https://github.com/org/app', 'main'));
    c.git.put(gitRepository('team-b', 'app', 'https://github.com/org/app', 'main'));
    const { discovery, clock } = start([{ api: c.api }], { kinds: ['GitRepository'], namespaces: ['team-a'] });
    discovery.start();
    await settle();
    expect(discovery.find('github', [push('main')])!.requests.map((request) => request.selector.label)).toEqual(['GitRepository team-a/app']);
    expect(c.application.streams).toHaveLength(0);
    expect(c.git.streams.map((stream) => stream.namespace)).toEqual(['team-a']);
    await discovery.stop();
    expect(c.git.openStreams()).toBe(0);
    expect(clock.timers()).toBe(0);
    expect(discovery.status().map((watch) => watch.state)).toEqual(['stopped']);
  });
});
