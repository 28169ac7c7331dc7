/**
 * The discovered objects of one kind in one cluster, filed by normalized repository URL and image: a push looks
 * up its own keys and evaluates only the objects filed there, so its cost follows what it concerns, not the
 * cluster's size. Fed by an informer: a sync replaces everything, a change replaces one object.
 */
import type { WatchedObject } from '../kube/index.ts';
import { discoveredObject, type DiscoveredObject } from './discovered-object.ts';

export interface DiscoveryIndex {
  /** Everything, after a (re)list. */
  replace(objects: readonly WatchedObject[]): void;
  upsert(object: WatchedObject): void;
  remove(object: WatchedObject): void;
  /** The objects filed under any of `keys`, each once. */
  candidates(keys: Iterable<string>): DiscoveredObject[];
  /** Every object held. */
  all(): DiscoveredObject[];
  /** Objects held (filed or not: an object without a URL is held but matches nothing). */
  readonly size: number;
}

/**
 * @example
 * const index = createDiscoveryIndex();
 * index.replace(listedGitRepositories);
 * index.candidates(['repo:github.com/org/app']); // the GitRepositories of that repository
 */
export function createDiscoveryIndex(): DiscoveryIndex {
  const byId = new Map<string, DiscoveredObject>();
  const byKey = new Map<string, Set<string>>();
  const idOf = (object: WatchedObject) => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

  function file(id: string, entry: DiscoveredObject, add: boolean): void {
    for (const source of entry.sources) {
      for (const key of source.keys) {
        let ids = byKey.get(key);
        if (add) {
          if (!ids) byKey.set(key, (ids = new Set()));
          ids.add(id);
        } else if (ids) {
          ids.delete(id);
          if (ids.size === 0) byKey.delete(key);
        }
      }
    }
  }

  function drop(id: string): void {
    const previous = byId.get(id);
    if (!previous) return;
    file(id, previous, false);
    byId.delete(id);
  }

  function put(object: WatchedObject): void {
    const id = idOf(object);
    drop(id);
    const entry = discoveredObject(object);
    byId.set(id, entry);
    file(id, entry, true);
  }

  return {
    replace(objects) {
      byId.clear();
      byKey.clear();
      for (const object of objects) put(object);
    },
    upsert: put,
    remove: (object) => drop(idOf(object)),
    candidates(keys) {
      const ids = new Set<string>();
      for (const key of keys) for (const id of byKey.get(key) ?? []) ids.add(id);
      return [...ids].map((id) => byId.get(id)!);
    },
    all: () => [...byId.values()],
    get size() {
      return byId.size;
    },
  };
}
