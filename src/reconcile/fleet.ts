/**
 * Several clusters behind one Reconciler: each work item goes to the reconciler of its cluster, and each cluster
 * keeps its own queue, dispatcher and debounce windows, so a slow or unreachable cluster never delays the others.
 * Which clusters a delivery's selectors reach, and whether each has room, is the journal's decision (it splits a
 * delivery into items per cluster); the fleet only routes.
 */
import type { Reconciler } from './reconciler.ts';
import type { WorkItem } from './work-item.ts';

export interface FleetMember {
  /** Undefined for the single `kubernetes:` connection (then the only member). */
  name?: string;
  reconciler: Reconciler;
}

/**
 * @example
 * const fleet = createFleet([{ name: 'eu', reconciler: eu }, { name: 'us', reconciler: us }]);
 * fleet.submit(items); // each item to its cluster's reconciler
 */
export function createFleet(members: readonly FleetMember[]): Reconciler {
  const byName = new Map(members.map((member) => [member.name, member.reconciler]));
  return {
    submit(items) {
      // The usual webhook: one cluster, nothing to group.
      if (members.length === 1) return members[0]!.reconciler.submit(items);
      const groups = new Map<Reconciler, WorkItem[]>();
      for (const item of items) {
        const reconciler = byName.get(item.cluster);
        if (reconciler === undefined) continue; // a cluster no longer configured (an item read back after a change)
        let group = groups.get(reconciler);
        if (!group) groups.set(reconciler, (group = []));
        group.push(item);
      }
      for (const [reconciler, group] of groups) reconciler.submit(group);
    },
    pending: () => members.reduce((sum, member) => sum + member.reconciler.pending(), 0),
    async shutdown(timeoutMs) {
      const results = await Promise.all(members.map((member) => member.reconciler.shutdown(timeoutMs)));
      return { unfinished: results.reduce((sum, result) => sum + result.unfinished, 0) };
    },
  };
}
