/**
 * The informer pool: users of the same kind in the same cluster share one list and one watch (over the union of
 * their namespaces), each sees only its own namespaces, and the shared watch ends with its last user.
 */
import { describe, expect, test } from 'bun:test';
import { createInformerPool } from '../../src/kube/informer-pool.ts';
import type { InformerOptions, WatchedObject } from '../../src/kube/informer.ts';
import { fakeWatchApi, type FakeWatchApi } from '../support/fake-watch-api.ts';
import { manualClock, settle } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const GIT = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', plural: 'gitrepositories' };
const KS = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', plural: 'kustomizations' };

function user(api: FakeWatchApi, kind: typeof GIT, namespaces?: string[]) {
  const seen = new Map<string, WatchedObject>();
  const options: InformerOptions = {
    api,
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    ...(namespaces ? { namespaces } : {}),
    clock: manualClock(),
    log: memoryLogger(),
    random: () => 0.5,
    onSync(objects) {
      seen.clear();
      for (const object of objects) seen.set(`${object.metadata.namespace}/${object.metadata.name}`, object);
    },
    onChange({ type, object }) {
      if (type === 'delete') seen.delete(`${object.metadata.namespace}/${object.metadata.name}`);
      else seen.set(`${object.metadata.namespace}/${object.metadata.name}`, object);
    },
  };
  return { options, seen: () => [...seen.keys()].sort() };
}

const object = (namespace: string, name: string) => ({ metadata: { name, namespace } });

describe('a pool of informers', () => {
  test('two users of one kind: one list and one watch of all namespaces; the user of one namespace sees only it', async () => {
    const api = fakeWatchApi(GIT);
    api.put(object('flux-system', 'app'));
    api.put(object('team-a', 'web'));
    const pool = createInformerPool();
    const everything = user(api, GIT);
    const fluxSystem = user(api, GIT, ['flux-system']);
    const first = pool.informer(everything.options);
    const second = pool.informer(fluxSystem.options);
    first.start();
    second.start();
    await settle();
    expect(api.lists).toEqual([]); // nothing runs before the pool starts: every user is known by then
    pool.start();
    await settle(20);
    expect(api.lists).toHaveLength(1);
    expect(api.openStreams()).toBe(1);
    expect(api.streams[0]!.namespace).toBeUndefined();
    expect(everything.seen()).toEqual(['flux-system/app', 'team-a/web']);
    expect(fluxSystem.seen()).toEqual(['flux-system/app']);

    api.put(object('team-a', 'api'));
    api.put(object('flux-system', 'infra'));
    await settle(20);
    expect(everything.seen()).toEqual(['flux-system/app', 'flux-system/infra', 'team-a/api', 'team-a/web']);
    expect(fluxSystem.seen()).toEqual(['flux-system/app', 'flux-system/infra']);
    expect([first.state(), second.state()]).toEqual(['watching', 'watching']);

    // The shared watch outlives its first user, and ends with its last.
    await first.stop();
    expect(api.openStreams()).toBe(1);
    expect(first.state()).toBe('stopped');
    await second.stop();
    expect(api.openStreams()).toBe(0);
  });

  test('users of different namespaces: one watch per namespace of the union, each user handed its own', async () => {
    const api = fakeWatchApi(GIT);
    for (const ns of ['a', 'b', 'c']) api.put(object(ns, 'app'));
    const pool = createInformerPool();
    const left = user(api, GIT, ['a', 'b']);
    const right = user(api, GIT, ['b', 'c']);
    pool.informer(left.options).start();
    pool.informer(right.options).start();
    pool.start();
    await settle(20);
    expect(api.streams.map((stream) => stream.namespace).sort()).toEqual(['a', 'b', 'c']);
    expect(left.seen()).toEqual(['a/app', 'b/app']);
    expect(right.seen()).toEqual(['b/app', 'c/app']);
  });

  test('another kind, or another cluster, is an informer of its own', async () => {
    const gits = fakeWatchApi(GIT);
    const kustomizations = fakeWatchApi(KS);
    const otherCluster = fakeWatchApi(GIT);
    const pool = createInformerPool();
    for (const [api, kind] of [[gits, GIT], [gits, GIT], [kustomizations, KS], [otherCluster, GIT]] as const) pool.informer(user(api, kind).options).start();
    pool.start();
    await settle(20);
    expect([gits.openStreams(), kustomizations.openStreams(), otherCluster.openStreams()]).toEqual([1, 1, 1]);
    expect([gits.lists.length, kustomizations.lists.length, otherCluster.lists.length]).toEqual([1, 1, 1]);
  });

  test('a user arriving once its kind is watched gets a watch of its own (it would have missed the list)', async () => {
    const api = fakeWatchApi(GIT);
    api.put(object('a', 'app'));
    const pool = createInformerPool();
    pool.informer(user(api, GIT).options).start();
    pool.start();
    await settle(20);
    const late = user(api, GIT);
    pool.informer(late.options).start();
    await settle(20);
    expect(api.lists).toHaveLength(2);
    expect(late.seen()).toEqual(['a/app']);
  });
});
