/**
 * The unsettled work items, by id, with a count per cluster so room is judged in O(1) per item. Owned by the
 * journal; every backend keeps this same view in memory and writes it through.
 */
import type { WorkItem } from '../reconcile/index.ts';

export interface PendingWork {
  get(id: string): WorkItem | undefined;
  put(item: WorkItem): void;
  delete(id: string): void;
  count(cluster: string | undefined): number;
  total(): number;
  all(): WorkItem[];
  /**
   * Whether a delivery adding these ids to `cluster` keeps it within `maxPending`: an id already owed adds nothing,
   * and an empty cluster takes any one delivery, so a target naming more objects than `maxPending` still works.
   * `staged`: items accepted but not yet written, counted as owed.
   */
  hasRoom(cluster: string | undefined, ids: readonly string[], maxPending: number, staged: number): boolean;
}

/**
 * @example
 * const pending = createPendingWork([undefined]);
 * pending.put(item); pending.count(undefined); // 1
 */
export function createPendingWork(clusters: readonly (string | undefined)[]): PendingWork {
  const items = new Map<string, WorkItem>();
  const counts = new Map<string | undefined, number>(clusters.map((cluster) => [cluster, 0]));
  const add = (cluster: string | undefined, delta: number) => counts.set(cluster, (counts.get(cluster) ?? 0) + delta);
  return {
    get: (id) => items.get(id),
    put(item) {
      if (!items.has(item.id)) add(item.cluster, 1);
      items.set(item.id, item);
    },
    delete(id) {
      const item = items.get(id);
      if (item === undefined) return;
      items.delete(id);
      add(item.cluster, -1);
    },
    count: (cluster) => counts.get(cluster) ?? 0,
    total: () => items.size,
    all: () => [...items.values()],
    hasRoom(cluster, ids, maxPending, staged) {
      const owed = (counts.get(cluster) ?? 0) + staged;
      if (owed === 0) return true;
      let added = 0;
      for (const id of ids) if (!items.has(id)) added += 1;
      return added === 0 || owed + added <= maxPending;
    },
  };
}
