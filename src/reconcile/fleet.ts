/**
 * Several clusters behind one Reconciler: each selector goes to the reconciler of every cluster it names
 * (`selector.clusters`; undefined: all of them), and each cluster keeps its own queue, dispatcher and debounce
 * windows, so a slow or unreachable cluster never delays the others.
 *
 * Room is judged per cluster: a delivery is refused (503) only when no cluster it concerns has room. Otherwise it
 * is accepted, and a cluster whose queue is full gets nothing from it: `refused` says so (the delivery log shows
 * it), because refusing the whole delivery would let one stuck cluster stop every other one. With one cluster this
 * is exactly that cluster's own rule.
 *
 * Two selectors naming the same object in a cluster (a configured target and discovery, or two targets) are
 * submitted once: the object's state machine then serves the delivery with one patch.
 */
import type { ObjectSelector, Reconciler, Ticket } from './reconciler.ts';

export interface FleetMember {
  /** Undefined for the single `kubernetes:` connection (then the only member). */
  name?: string;
  reconciler: Reconciler;
}

export interface FleetOptions {
  members: readonly FleetMember[];
  /** A cluster's queue was full: these selectors of an accepted delivery were not submitted to it. */
  refused?(cluster: string | undefined, ticket: Ticket, selectors: readonly ObjectSelector[]): void;
}

/**
 * @example
 * const fleet = createFleet({ members: [{ name: 'eu', reconciler: eu }, { name: 'us', reconciler: us }] });
 * fleet.submit(ticket, selectors); // each selector to its clusters, each object once per cluster
 */
export function createFleet(options: FleetOptions): Reconciler {
  const { members } = options;
  const byName = new Map(members.map((member) => [member.name, member]));

  /** The selectors each member receives, an object once per member. */
  function split(selectors: readonly ObjectSelector[]): Map<FleetMember, ObjectSelector[]> {
    // The usual webhook: one cluster, one object, nothing to group or deduplicate (it runs twice per webhook).
    if (members.length === 1 && selectors.length === 1 && selectors[0]!.clusters === undefined) return new Map([[members[0]!, [selectors[0]!]]]);
    const groups = new Map<FleetMember, Map<string, ObjectSelector>>();
    for (const selector of selectors) {
      const targets = selector.clusters === undefined ? members : selector.clusters.flatMap((name) => byName.get(name) ?? []);
      for (const member of targets) {
        let group = groups.get(member);
        if (!group) groups.set(member, (group = new Map()));
        const identity = selector.name === undefined ? selector.key : `${selector.apiVersion}|${selector.kind}|${selector.namespace}|${selector.name}|${selector.annotation.key}`;
        if (!group.has(identity)) group.set(identity, selector);
      }
    }
    return new Map([...groups].map(([member, group]) => [member, [...group.values()]]));
  }

  return {
    submit(ticket, selectors) {
      for (const [member, group] of split(selectors)) {
        if (members.length > 1 && !member.reconciler.hasRoom(group)) options.refused?.(member.name, ticket, group);
        else member.reconciler.submit(ticket, group);
      }
    },
    hasRoom(selectors) {
      const groups = split(selectors);
      if (groups.size === 0) return true;
      for (const [member, group] of groups) if (member.reconciler.hasRoom(group)) return true;
      return false;
    },
    pending: () => members.reduce((sum, member) => sum + member.reconciler.pending(), 0),
    async shutdown(timeoutMs) {
      const results = await Promise.all(members.map((member) => member.reconciler.shutdown(timeoutMs)));
      return { unfinished: results.reduce((sum, result) => sum + result.unfinished, 0) };
    },
  };
}
