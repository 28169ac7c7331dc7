/**
 * One informer per kind and cluster, shared: discovery and following both watch GitRepositories (say), and each gets
 * what it asked for — its namespaces, its callbacks — from one list and one watch, so following a push costs the API
 * server no second watch of a kind discovery already watches.
 *
 * Users take an informer from the pool with `createInformer`'s options (the same Informer back), before the pool
 * starts; `start()` then opens one informer per cluster, apiVersion, kind and selectors, over the union of the
 * namespaces its users asked for (all of them when one asked for all), and hands each user only the objects of its
 * own namespaces. The shared informer stops when its last user stops.
 */
import type { KubeApi } from './client.ts';
import { createInformer, type Informer, type InformerOptions, type WatchState } from './informer.ts';
import type { WatchedObject } from './watched-object.ts';

export interface InformerPool {
  /** An informer as `createInformer(options)` makes it, shared with the other users of the same kind in the same cluster. */
  informer(options: InformerOptions): Informer;
  /** Opens the shared informers of every user so far (and of each one taken later, at its own start). */
  start(): void;
}

interface User {
  options: InformerOptions;
  namespaces?: ReadonlySet<string>;
  wanted: boolean;
  stopped: boolean;
}

interface Shared {
  users: User[];
  informer?: Informer;
  /** The namespaces the running informer covers; undefined: all. */
  covers?: ReadonlySet<string>;
}

/**
 * @example
 * const pool = createInformerPool();
 * const forDiscovery = pool.informer({ api, apiVersion, kind: 'GitRepository', clock, log, onSync, onChange });
 * const forFollowing = pool.informer({ api, apiVersion, kind: 'GitRepository', namespaces: ['flux-system'], clock, log, onSync, onChange });
 * forDiscovery.start(); forFollowing.start();
 * pool.start(); // one list and one watch of GitRepositories
 */
export function createInformerPool(): InformerPool {
  const apis = new WeakMap<KubeApi, number>();
  const shared = new Map<string, Shared>();
  let started = false;
  let apiCount = 0;
  const keyOf = (options: InformerOptions) => {
    if (!apis.has(options.api)) apis.set(options.api, (apiCount += 1));
    return JSON.stringify([apis.get(options.api), options.apiVersion, options.kind, options.fieldSelector ?? '', options.labelSelector ?? '']);
  };
  const open = (entry: Shared) => {
    if (entry.informer || !entry.users.some((user) => user.wanted && !user.stopped)) return;
    openShared(entry);
  };
  return {
    informer(options) {
      let key = keyOf(options);
      // A user arriving once its kind is watched gets a watch of its own (it would miss the list already made).
      if (shared.get(key)?.informer) key = `${key}#${shared.size}`;
      const entry = shared.get(key) ?? { users: [] };
      shared.set(key, entry);
      const user: User = { options, ...(options.namespaces ? { namespaces: new Set(options.namespaces) } : {}), wanted: false, stopped: false };
      entry.users.push(user);
      return userInformer(entry, user, () => started && open(entry));
    },
    start() {
      started = true;
      for (const entry of shared.values()) open(entry);
    },
  };
}

/** The informer over the union of the users' namespaces, handing each user its own. */
function openShared(entry: Shared): void {
  const users = entry.users.filter((user) => !user.stopped);
  const all = users.some((user) => user.namespaces === undefined);
  const covers = all ? undefined : new Set(users.flatMap((user) => [...user.namespaces!]));
  const first = users[0]!.options;
  const mine = (user: User, object: WatchedObject) => user.namespaces === undefined || user.namespaces.has(object.metadata.namespace ?? '');
  const live = () => entry.users.filter((user) => !user.stopped);
  entry.covers = covers;
  entry.informer = createInformer({
    ...first,
    ...(covers ? { namespaces: [...covers].sort() } : { namespaces: undefined }),
    onSync(objects) {
      for (const user of live()) user.options.onSync(user.namespaces === undefined ? objects : objects.filter((object) => mine(user, object)));
    },
    onChange(change) {
      for (const user of live()) if (mine(user, change.object)) user.options.onChange(change);
    },
    onState(state: WatchState) {
      for (const user of live()) user.options.onState?.(state);
    },
  });
  entry.informer.start();
}

function userInformer(entry: Shared, user: User, opened: () => void): Informer {
  return {
    start() {
      user.wanted = true;
      opened();
    },
    async stop() {
      if (user.stopped) return;
      user.stopped = true;
      if (entry.users.every((other) => other.stopped)) await entry.informer?.stop();
    },
    state: () => (user.stopped ? 'stopped' : (entry.informer?.state() ?? 'starting')),
    problem: () => (user.stopped ? 'stopped' : entry.informer?.problem()),
  };
}
