/**
 * The unsettled work items on NATS: the bucket `<name>-work` (one key per item, `<partition>.<hash of its id>`) and
 * every replica's copy of it, kept by one watcher, so room in a cluster is judged over what every replica owes and a
 * replica taking a partition over knows at once what it owes there.
 *
 * An item's `revision` is its key's revision in the bucket: folding a newer delivery in is a compare-and-set that
 * raises it, and settling is a delete on the condition that it has not moved (a patch that started before the newer
 * delivery settles nothing).
 */
import type { KV, KvEntry } from '@nats-io/kv';
import type { WorkItem } from '../reconcile/index.ts';
import { createPendingWork, type PendingWork } from './pending-work.ts';
import { fold } from './work.ts';
import { partitionOfKey } from './nats-partitions.ts';
import { superviseWatch, type SupervisedWatch } from './nats-watch.ts';
import type { Clock } from '../core/index.ts';

/** An item as kept in the bucket: without its filter (a function), with the token the accepting replica keeps it under. */
export type StoredItem = WorkItem & { filterRef?: string };

export interface WorkEntry {
  key: string;
  partition: string;
  item: StoredItem;
}

export interface WorkSet {
  /** Resolves once the bucket's contents at start were read. */
  ready: Promise<void>;
  watch: SupervisedWatch;
  get(id: string): WorkEntry | undefined;
  byKey(key: string): WorkEntry | undefined;
  inPartition(partition: string): WorkEntry[];
  /** Partitions holding items (own partitions of replicas that may have gone among them). */
  partitions(): string[];
  counts: Pick<PendingWork, 'count' | 'total' | 'hasRoom'>;
  stop(): void;
}

export interface WorkSetOptions {
  clusters: readonly (string | undefined)[];
  clock: Clock;
  failed(operation: string, error: string): void;
  /** An item was written (its revision raised) or settled (`undefined`). */
  changed(key: string, entry: WorkEntry | undefined): void;
  /** A value that is not a work item (another version's, damaged): it is left alone. */
  unreadable(key: string, error: string): void;
}

export function encodeItem(item: StoredItem): string {
  if (item.selector.filter === undefined) return JSON.stringify(item);
  const { filter: _filter, ...selector } = item.selector;
  return JSON.stringify({ ...item, selector });
}

function decodeItem(entry: KvEntry): StoredItem {
  const item = entry.json<StoredItem>();
  if (typeof item?.id !== 'string' || typeof item.selector?.kind !== 'string' || !Array.isArray(item.tickets)) throw new Error('not a work item');
  return { ...item, revision: entry.revision };
}

/**
 * @example
 * const work = watchWork(layout.work, { clusters: [undefined], changed, unreadable });
 * await work.ready;
 */
export function watchWork(kv: KV, options: WorkSetOptions): WorkSet {
  const byKey = new Map<string, WorkEntry>();
  const keyById = new Map<string, string>();
  const byPartition = new Map<string, Set<string>>();
  const pending = createPendingWork(options.clusters);
  const remove = (key: string) => {
    const existing = byKey.get(key);
    if (!existing) return;
    byKey.delete(key);
    keyById.delete(existing.item.id);
    pending.delete(existing.item.id);
    const keys = byPartition.get(existing.partition);
    keys?.delete(key);
    if (keys?.size === 0) byPartition.delete(existing.partition);
  };
  const apply = (entry: KvEntry) => {
    if (entry.operation !== 'PUT') {
      remove(entry.key);
      options.changed(entry.key, undefined);
      return;
    }
    let item: StoredItem;
    try {
      item = decodeItem(entry);
    } catch (error) {
      options.unreadable(entry.key, (error as Error).message);
      return;
    }
    remove(entry.key);
    const partition = partitionOfKey(entry.key);
    const stored: WorkEntry = { key: entry.key, partition, item };
    byKey.set(entry.key, stored);
    keyById.set(item.id, entry.key);
    pending.put(item);
    let keys = byPartition.get(partition);
    if (!keys) byPartition.set(partition, (keys = new Set()));
    keys.add(entry.key);
    options.changed(entry.key, stored);
  };

  // Keys not named again by a restarted watch's snapshot were settled while it was away.
  let unconfirmed = new Set<string>();
  const watch = superviseWatch(
    kv,
    '>',
    options.clock,
    {
      begin: () => void (unconfirmed = new Set(byKey.keys())),
      entry(entry) {
        unconfirmed.delete(entry.key);
        apply(entry);
      },
      caughtUp() {
        for (const key of unconfirmed) {
          remove(key);
          options.changed(key, undefined);
        }
        unconfirmed.clear();
      },
    },
    (error) => options.failed('watch', error),
  );
  return {
    ready: watch.ready,
    watch,
    get: (id) => {
      const key = keyById.get(id);
      return key === undefined ? undefined : byKey.get(key);
    },
    byKey: (key) => byKey.get(key),
    inPartition: (partition) => [...(byPartition.get(partition) ?? [])].map((key) => byKey.get(key)!),
    partitions: () => [...byPartition.keys()],
    counts: pending,
    stop: () => watch.stop(),
  };
}

const FOLD_ATTEMPTS = 50;

/**
 * Folds `item` into what key `key` owes (creates it when nothing is owed), by compare-and-set: a concurrent write by
 * another replica makes it read and fold again. A delivery folded in before (its first ticket is among the item's) is
 * not folded twice: a message handed out again after a replica died mid-way costs nothing.
 */
export async function foldItem(kv: KV, work: WorkSet, key: string, item: StoredItem, timeoutMs: number): Promise<'folded' | 'already'> {
  const seq = item.tickets[0]?.seq;
  let known: { item: StoredItem; revision: number } | undefined = (() => {
    const cached = work.byKey(key);
    return cached ? { item: cached.item, revision: cached.item.revision } : undefined;
  })();
  for (let attempt = 0; attempt < FOLD_ATTEMPTS; attempt += 1) {
    if (attempt > 0) {
      const entry = await kv.get(key);
      known = entry && entry.operation === 'PUT' ? { item: decodeItem(entry), revision: entry.revision } : undefined;
    }
    try {
      if (known) {
        if (seq !== undefined && known.item.tickets.some((ticket) => ticket.seq === seq)) return 'already';
        await kv.update(key, encodeItem(fold(known.item, item)), known.revision, timeoutMs);
      } else {
        // Also over a settled item's delete marker (create checks that it is still the last word).
        await kv.create(key, encodeItem(item));
      }
      return 'folded';
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
  throw new Error(`work item ${key} kept changing under ${FOLD_ATTEMPTS} attempts to fold a delivery in`);
}

/** Settles key `key` if it is still at `revision`; false when a newer delivery was folded in (it stays owed). */
export async function deleteItem(kv: KV, key: string, revision: number): Promise<boolean> {
  try {
    await kv.delete(key, { previousSeq: revision });
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

/** JetStream's "wrong last sequence": someone wrote the key first. */
export function isConflict(error: unknown): boolean {
  const code = (error as { code?: number }).code;
  return code === 10071 || /wrong last sequence|key exists/i.test((error as Error)?.message ?? '');
}
