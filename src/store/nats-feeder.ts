/**
 * Hands reconcile what the partitions this replica owns owe, and only that: an item the first time it is seen
 * (or on taking its partition over: that is the replay), then each newer revision with only the tickets not handed
 * over yet, so reconcile's reports name each delivery once. An item this replica accepted with a filter gets its
 * filter back (it was kept here under the item's `filterRef`); after a restart or in another replica it has none,
 * and every object its selector names is reconciled.
 */
import type { ObjectFilter } from '../core/index.ts';
import type { WorkItem } from '../reconcile/index.ts';
import type { StoredItem, WorkEntry, WorkSet } from './nats-work.ts';

export interface Feeder {
  /** The work bucket changed (from its watcher). */
  changed(key: string, entry: WorkEntry | undefined): void;
  acquired(partition: string): void;
  lost(partition: string): void;
  /** Whether an item handed over from this partition is still owed. */
  busy(partition: string): boolean;
  /** Starts handing over (once reconcile is up): everything owed in owned partitions now; returns how many. */
  start(): number;
  /** Keeps a filter of a delivery this replica is accepting, until its item is settled. */
  keepFilter(ref: string, filter: ObjectFilter): void;
  forgetFilter(ref: string): void;
  /** Items owed in the partitions this replica owns. */
  ownedItems(): number;
}

export interface FeederOptions {
  work: () => WorkSet;
  owns(partition: string): boolean;
  feed(items: readonly WorkItem[]): void;
  /** Filters kept at most (the oldest go first: their items then reconcile every object, as after a restart). */
  maxFilters: number;
}

interface Fed {
  revision: number;
  tickets: Set<number>;
  untracked: number;
}

/**
 * @example
 * const feeder = createFeeder({ work: () => work, owns: (p) => ownership.owns(p), feed: (items) => fleet.submit(items), maxFilters: 10_000 });
 */
export function createFeeder(options: FeederOptions): Feeder {
  const fed = new Map<string, Fed>();
  const filters = new Map<string, ObjectFilter>();
  let started = false;

  /** What `entry` owes beyond what was handed over already; undefined when nothing. */
  function delta(key: string, item: StoredItem): WorkItem | undefined {
    const before = fed.get(key);
    if (before !== undefined && before.revision >= item.revision) return undefined;
    fed.set(key, { revision: item.revision, tickets: new Set(item.tickets.map((ticket) => ticket.seq)), untracked: item.untracked });
    const { filterRef, ...rest } = item;
    const filter = filterRef !== undefined ? filters.get(filterRef) : undefined;
    const tickets = before ? item.tickets.filter((ticket) => !before.tickets.has(ticket.seq)) : item.tickets;
    return {
      ...rest,
      tickets,
      untracked: Math.max(0, item.untracked - (before?.untracked ?? 0)),
      ...(filter ? { selector: { ...item.selector, filter } } : {}),
    };
  }

  function feedPartition(partition: string): number {
    const items: WorkItem[] = [];
    for (const entry of options.work().inPartition(partition)) {
      const next = delta(entry.key, entry.item);
      if (next) items.push(next);
    }
    if (items.length > 0) options.feed(items);
    return items.length;
  }

  return {
    changed(key, entry) {
      if (entry === undefined) {
        fed.delete(key);
        return;
      }
      if (!started || !options.owns(entry.partition)) return;
      const next = delta(key, entry.item);
      if (next) options.feed([next]);
    },
    acquired(partition) {
      if (started) feedPartition(partition);
    },
    lost(partition) {
      for (const key of fed.keys()) if (key.startsWith(`${partition}.`)) fed.delete(key);
    },
    busy(partition) {
      const work = options.work();
      for (const key of fed.keys()) if (key.startsWith(`${partition}.`) && work.byKey(key) !== undefined) return true;
      return false;
    },
    start() {
      started = true;
      let count = 0;
      for (const partition of options.work().partitions()) if (options.owns(partition)) count += feedPartition(partition);
      return count;
    },
    keepFilter(ref, filter) {
      filters.set(ref, filter);
      if (filters.size > options.maxFilters) filters.delete(filters.keys().next().value!);
    },
    forgetFilter: (ref) => void filters.delete(ref),
    ownedItems() {
      let count = 0;
      const work = options.work();
      for (const partition of work.partitions()) if (options.owns(partition)) count += work.inPartition(partition).length;
      return count;
    },
  };
}
