/**
 * The journal: what accepted webhooks owe, kept until reconcile settles it. It owns the queue of unsettled work
 * items (one per object or label query and cluster, `pending-work.ts`), the delivery ids seen, the sequence of
 * tickets and the failures kept for a retry by hand; reconcile owns only when each object is patched.
 *
 * Accepting a delivery: duplicate? → room in a cluster it concerns? → ticket → its items are written (with a
 * durable store, in one group commit with every other delivery of the same moment, and the answer waits for it) →
 * the items are fed to reconcile. When the write fails nothing is accepted: the delivery id is forgotten, so the
 * provider's retry is not a duplicate, and the answer is 503.
 *
 * Settling: a patch that started with revision r settles the item if no newer delivery folded into it since; a
 * failure that will not change moves the item to the failures. Those writes ride the next commit: losing one in a
 * crash costs one extra patch at the next start, never a missing one.
 */
import type { Clock } from '../core/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';
import type { DeliveryDeduper } from './dedupe.ts';
import { createPendingWork, type PendingWork } from './pending-work.ts';
import type { AcceptedDelivery, AcceptOutcome, Acceptor } from '../pipeline/index.ts';
import type { Settlement, WorkItem, WorkLedger } from '../reconcile/index.ts';
import { fold, itemId, MAX_ITEM_TICKETS, namedItem } from './work.ts';

/** A failure kept for a retry by hand (`fluxgate retry`, the status page): the item as it was owed, and why it ended. */
export interface FailureRecord {
  seq: number;
  item: WorkItem;
  outcome: string;
  error: string;
  attempts: number;
  failedAt: number;
}

/** Everything a commit writes: items and failures by key (null: deleted), delivery ids, the next ticket. */
export interface JournalChanges {
  items: ReadonlyMap<string, WorkItem | null>;
  failures: ReadonlyMap<number, FailureRecord | null>;
  seen: readonly { provider: string; deliveryId: string; at: number }[];
  nextSeq: number;
}

/** Writes one commit, all or nothing; throws when it cannot (the journal then answers 503). */
export interface JournalWriter {
  write(changes: JournalChanges): void;
  /**
   * Called before each commit; throws when the store cannot be reached. A store that could not be opened at start
   * and is open now hands back what it read, once: the journal takes it over before anything else is written.
   */
  open?(): JournalState | undefined;
}

/** What a durable store read back at start. */
export interface JournalState {
  items: readonly WorkItem[];
  failures: readonly FailureRecord[];
  seen: readonly { provider: string; deliveryId: string; at: number }[];
  nextSeq: number;
}

export interface JournalReporter {
  /** A commit ended: its duration, and the error when it failed. */
  committed(durationMs: number, deliveries: number, error?: string): void;
  /** Unsettled items at this moment (per cluster). */
  pending(cluster: string | undefined, count: number): void;
  failures(count: number): void;
}

export interface JournalOptions {
  /** The clusters (undefined: the single `kubernetes:` connection): a selector without `clusters` goes to each. */
  clusters: readonly (string | undefined)[];
  /** Unsettled items per cluster at most: beyond it that cluster takes nothing more (`refused`). */
  maxPending: number;
  dedupe: DeliveryDeduper;
  clock: Clock;
  /** Mints the annotation value at acceptance, so a replay writes the value the delivery was accepted with. */
  requestedAt: (now: Date) => string;
  /** Hands items to reconcile (through the fleet, by cluster). */
  feed(items: readonly WorkItem[]): void;
  /** A cluster without room: these selectors of an accepted delivery were not taken there. */
  refused?(cluster: string | undefined, ticket: Ticket, selectors: readonly ObjectSelector[]): void;
  /** Absent: nothing outlives the process (`store: memory`). */
  writer?: JournalWriter;
  initial?: JournalState;
  /** Failures kept at most (the oldest go first). */
  maxFailures: number;
  reporter: JournalReporter;
  /** The store could not be opened at start: unhealthy until a commit succeeds. */
  initialError?: string;
  /** A store that could not be opened at start was opened: `owed` items read back are fed to reconcile. */
  opened?(owed: number): void;
  /** Runs the group commit after the current burst of I/O (default: setImmediate). */
  defer?: (run: () => void) => void;
}

export interface Journal extends WorkLedger, Acceptor {
  accept(delivery: AcceptedDelivery): AcceptOutcome | Promise<AcceptOutcome>;
  /** Feeds every unsettled item to reconcile (at start, before ready); returns how many. */
  replay(): number;
  /** Unsettled items, over every cluster. */
  pending(): number;
  failures(): readonly FailureRecord[];
  /** Owes the failed items again (all, or those with these seqs), with new tickets and values; returns how many. */
  retry(seqs?: readonly number[]): number;
  /** Writes what is waiting now instead of after the current burst (shutdown, tests). */
  flush(): void;
  /** Asks for a commit soon: another part of the store has something to write. */
  flushSoon(): void;
  /** Drops failures that ended before `time` (retention by age). */
  expireFailures(time: number): void;
  /** Whether the last commit was written; after a failure, `check` tries again with nothing else to write. */
  health(): { ok: true } | { ok: false; error: string };
  check(): void;
}

interface Staged {
  ticket: Ticket;
  items: WorkItem[];
  provider: string;
  deliveryId?: string;
  resolve(outcome: AcceptOutcome): void;
}

/**
 * @example
 * const journal = createJournal({ clusters: [undefined], maxPending: 10_000, dedupe, clock, requestedAt, feed: (items) => fleet.submit(items), maxFailures: 1000, reporter });
 * await journal.accept({ provider: 'github', deliveryId: 'd1', cause, selectors }); // { kind: 'accepted', ticket }
 */
export function createJournal(options: JournalOptions): Journal {
  const { clock, dedupe, writer, reporter } = options;
  const defer = options.defer ?? ((run) => void setImmediate(run));
  const pending: PendingWork = createPendingWork(options.clusters);
  const failures = new Map<number, FailureRecord>();
  let nextSeq = 1;
  let nextFailure = 1;
  // Written by the next commit: items and failures that changed since the last one, ids seen.
  const dirtyItems = new Map<string, WorkItem | null>();
  const dirtyFailures = new Map<number, FailureRecord | null>();
  let staged: Staged[] = [];
  let scheduled = false;
  let lastError: string | undefined = options.initialError;
  let checking = false;

  /** What a store read back: owed items (those of a cluster the config no longer names become failures), failures, ids. */
  function load(state: JournalState): void {
    nextSeq = Math.max(nextSeq, state.nextSeq);
    for (const failure of state.failures) {
      failures.set(failure.seq, failure);
      nextFailure = Math.max(nextFailure, failure.seq + 1);
    }
    for (const item of state.items) {
      if (options.clusters.includes(item.cluster)) pending.put(item);
      else {
        // Owed in a cluster the config no longer names: kept as a failure, so it is seen (and can be retried if it returns).
        dirtyItems.set(item.id, null);
        keepFailure(item, { kind: 'failed', outcome: 'failed', error: `cluster ${item.cluster ?? '(kubernetes:)'} is no longer configured`, attempts: 0 });
      }
    }
    for (const seen of state.seen) dedupe.remember(seen.provider, seen.deliveryId, seen.at);
  }
  if (options.initial) load(options.initial);

  const report = () => {
    for (const cluster of options.clusters) reporter.pending(cluster, pending.count(cluster));
    reporter.failures(failures.size);
  };

  /** The delivery's items, one per object or query and cluster, grouped by whether the cluster has room. */
  function plan(delivery: AcceptedDelivery, ticket: Ticket, value: (selector: ObjectSelector) => string | undefined) {
    const byCluster = new Map<string | undefined, Map<string, { item: WorkItem; selector: ObjectSelector }>>();
    for (const selector of delivery.selectors) {
      for (const cluster of selector.clusters ?? options.clusters) {
        if (!options.clusters.includes(cluster)) continue;
        let items = byCluster.get(cluster);
        if (!items) byCluster.set(cluster, (items = new Map()));
        const id = itemId(cluster, selector, ticket.seq);
        if (items.has(id)) continue;
        const item: WorkItem = { id, ...(cluster !== undefined ? { cluster } : {}), selector, revision: ticket.seq, tickets: [ticket], untracked: 0, since: ticket.acceptedAt, ...optional('value', value(selector)), ...(selector.filter ? { filtered: true } : {}) };
        items.set(id, { item, selector });
      }
    }
    const taken: WorkItem[] = [];
    const refused: { cluster: string | undefined; selectors: ObjectSelector[] }[] = [];
    for (const [cluster, items] of byCluster) {
      const entries = [...items.values()];
      if (pending.hasRoom(cluster, entries.map((entry) => entry.item.id), options.maxPending, stagedCount(cluster))) taken.push(...entries.map((entry) => entry.item));
      else refused.push({ cluster, selectors: entries.map((entry) => entry.selector) });
    }
    return { taken, refused };
  }

  const stagedCount = (cluster: string | undefined) => {
    let count = 0;
    for (const entry of staged) for (const item of entry.items) if (item.cluster === cluster) count += 1;
    return count;
  };

  function mintValue(now: number): (selector: ObjectSelector) => string | undefined {
    let minted: string | undefined;
    return (selector) => selector.annotation.fixedValue ?? (minted ??= options.requestedAt(new Date(now)));
  }

  function commit(): void {
    scheduled = false;
    let error: string | undefined;
    try {
      const opened = writer!.open?.();
      // Opened only now (it could not be at start): what it owed is taken over first. Nothing was accepted meanwhile.
      if (opened) {
        load(opened);
        const items = pending.all();
        options.opened?.(items.length);
        if (items.length > 0) options.feed(items);
      }
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const batch = staged;
    staged = [];
    const folded = new Map<string, WorkItem>();
    for (const entry of batch) for (const item of entry.items) folded.set(item.id, fold(folded.get(item.id) ?? pending.get(item.id), item));
    const items = new Map<string, WorkItem | null>(dirtyItems);
    for (const [id, item] of folded) items.set(id, item);
    const seen = batch.flatMap((entry) => (entry.deliveryId !== undefined ? [{ provider: entry.provider, deliveryId: entry.deliveryId, at: entry.ticket.acceptedAt }] : []));
    const started = performance.now();
    if (error === undefined) {
      try {
        writer!.write({ items, failures: dirtyFailures, seen, nextSeq });
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
    }
    reporter.committed(performance.now() - started, batch.length, error);
    // Health follows the commits that carry deliveries (or a check): a small write of the delivery log squeezing
    // into the last free bytes of a full disk does not make the store look writable again.
    if (error !== undefined || batch.length > 0 || checking) lastError = error;
    if (error !== undefined) {
      for (const entry of batch) {
        if (entry.deliveryId !== undefined) dedupe.forget(entry.provider, entry.deliveryId);
        entry.resolve({ kind: 'unavailable', reason: `the state store cannot be written: ${error}` });
      }
      return;
    }
    dirtyItems.clear();
    dirtyFailures.clear();
    for (const item of folded.values()) pending.put(item);
    for (const entry of batch) entry.resolve({ kind: 'accepted', ticket: entry.ticket });
    const fed = batch.flatMap((entry) => entry.items);
    if (fed.length > 0) options.feed(fed);
    report();
  }

  function schedule(): void {
    if (writer === undefined || scheduled) return;
    scheduled = true;
    defer(() => {
      if (scheduled) commit();
    });
  }

  function settleLocally(id: string, revision: number): WorkItem | undefined {
    const item = pending.get(id);
    if (item === undefined || item.revision > revision) return undefined;
    pending.delete(id);
    dirtyItems.set(id, null);
    return item;
  }

  function keepFailure(item: WorkItem, settlement: Extract<Settlement, { kind: 'failed' }>): void {
    const failure: FailureRecord = { seq: nextFailure++, item, outcome: settlement.outcome, error: settlement.error, attempts: settlement.attempts, failedAt: clock.now() };
    failures.set(failure.seq, failure);
    dirtyFailures.set(failure.seq, failure);
    for (const [seq] of failures) {
      if (failures.size <= options.maxFailures) break;
      failures.delete(seq);
      dirtyFailures.set(seq, null);
    }
  }

  return {
    accept(delivery) {
      if (delivery.deliveryId !== undefined && dedupe.seen(delivery.provider, delivery.deliveryId)) return { kind: 'duplicate' };
      const acceptedAt = clock.now();
      const ticket: Ticket = { seq: nextSeq, acceptedAt, cause: delivery.cause };
      const { taken, refused } = plan(delivery, ticket, writer !== undefined ? mintValue(acceptedAt) : () => undefined);
      if (taken.length === 0 && refused.length > 0) {
        if (delivery.deliveryId !== undefined) dedupe.forget(delivery.provider, delivery.deliveryId);
        return { kind: 'full' };
      }
      nextSeq += 1;
      for (const group of refused) options.refused?.(group.cluster, ticket, group.selectors);
      if (writer === undefined) {
        for (const item of taken) pending.put(fold(pending.get(item.id), item));
        if (taken.length > 0) options.feed(taken);
        report();
        return { kind: 'accepted', ticket };
      }
      return new Promise<AcceptOutcome>((resolve) => {
        staged.push({ ticket, items: taken, provider: delivery.provider, ...optional('deliveryId', delivery.deliveryId), resolve });
        schedule();
      });
    },
    settle(id, revision, settlement) {
      const item = settleLocally(id, revision);
      if (item && settlement.kind === 'failed') keepFailure(item, settlement);
      schedule();
      report();
    },
    expand(query, names) {
      // Each object becomes an item of its own before the query is settled, in the same commit: a crash in between
      // leaves the query owed (listed again at the next start), never neither. A newer delivery folded into the
      // query meanwhile keeps it owed: it is listed again for that one.
      const named = names.map((name) => namedItem(query, name, nextSeq++));
      for (const item of named) {
        const next = fold(pending.get(item.id), item);
        pending.put(next);
        dirtyItems.set(next.id, next);
      }
      settleLocally(query.id, query.revision);
      schedule();
      report();
      if (named.length > 0) options.feed(named);
    },
    replay() {
      const items = pending.all();
      if (items.length > 0) options.feed(items);
      report();
      return items.length;
    },
    pending: () => pending.total(),
    failures: () => [...failures.values()],
    retry(seqs) {
      const chosen = seqs === undefined ? [...failures.values()] : seqs.flatMap((seq) => failures.get(seq) ?? []);
      const now = clock.now();
      const value = writer !== undefined ? mintValue(now) : () => undefined;
      const items = chosen.map((failure) => {
        failures.delete(failure.seq);
        dirtyFailures.set(failure.seq, null);
        const ticket: Ticket = { seq: nextSeq++, acceptedAt: now, ...(failure.item.tickets.at(-1)?.cause ? { cause: failure.item.tickets.at(-1)!.cause! } : {}) };
        const again: WorkItem = { ...failure.item, revision: ticket.seq, tickets: [...failure.item.tickets.slice(1 - MAX_ITEM_TICKETS), ticket], since: now, ...optional('value', value(failure.item.selector)) };
        const next = fold(pending.get(again.id), again);
        pending.put(next);
        dirtyItems.set(next.id, next);
        return again;
      });
      if (items.length > 0) options.feed(items);
      schedule();
      report();
      return items.length;
    },
    flush() {
      if (writer !== undefined && (staged.length > 0 || dirtyItems.size > 0 || dirtyFailures.size > 0 || scheduled)) commit();
    },
    flushSoon: schedule,
    health: () => (lastError === undefined ? { ok: true } : { ok: false, error: lastError }),
    check() {
      if (writer === undefined) return;
      checking = true;
      try {
        commit();
      } finally {
        checking = false;
      }
    },
    expireFailures(time) {
      for (const [seq, failure] of failures) {
        if (failure.failedAt >= time) continue;
        failures.delete(seq);
        dirtyFailures.set(seq, null);
      }
      schedule();
      report();
    },
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
