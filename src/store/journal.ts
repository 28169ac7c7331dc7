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
import { createFailureList, type FailureList, type FailureRecord } from './failure-list.ts';
import { createGroupCommit, type GroupCommit, type PreparedCommit, type Staged } from './group-commit.ts';
import type { JournalState, JournalWriter } from './journal-store.ts';
import { createPendingWork, type PendingWork } from './pending-work.ts';
import type { LocalRelayLog } from './relay-log.ts';
import type { AcceptedDelivery, AcceptOutcome, Acceptor } from '../pipeline/index.ts';
import type { WorkItem, WorkLedger } from '../reconcile/index.ts';
import { fold, itemId, MAX_ITEM_TICKETS, namedItem } from './work.ts';

export type { FailureRecord } from './failure-list.ts';
export type { JournalChanges, JournalState, JournalWriter } from './journal-store.ts';

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
  /** On a relay's edge: the events kept for subscribers, written in the commit of their delivery. */
  relay?: LocalRelayLog;
  /** Runs a commit of changes without deliveries (default: after LAZY_COMMIT_MS, unless a delivery's commit takes them first). */
  deferLazily?: (run: () => void) => void;
}

/** How long changes without a delivery (settles, records) wait for a delivery's commit to ride before one of their own. */
export const LAZY_COMMIT_MS = 50;

export interface Journal extends WorkLedger, Acceptor {
  accept(delivery: AcceptedDelivery): AcceptOutcome | Promise<AcceptOutcome>;
  /** Feeds every unsettled item to reconcile (at start, before ready); returns how many. */
  replay(): number;
  /** Unsettled items, over every cluster. */
  pending(): number;
  failures(): readonly FailureRecord[];
  /** Owes the failed items again (all, or those with these seqs), with new tickets and values; returns how many. */
  retry(seqs?: readonly number[]): number;
  /** Writes what is waiting now instead of after the current burst (shutdown, tests); resolves once it is written. */
  flush(): Promise<void>;
  /** Asks for a commit soon: another part of the store has something to write. */
  flushSoon(): void;
  /** Drops failures that ended before `time` (retention by age). */
  expireFailures(time: number): void;
  /** Whether the last commit was written; after a failure, `check` tries again with nothing else to write. */
  health(): { ok: true } | { ok: false; error: string };
  check(): Promise<void>;
}

/** What the journal owns: the work owed (by id), the failures kept, the next ticket, and the items changed since the last commit. */
interface Owed {
  pending: PendingWork;
  failures: FailureList;
  /** Items changed since the last commit (null: settled). */
  changed: Map<string, WorkItem | null>;
  nextSeq: number;
}

/**
 * @example
 * const journal = createJournal({ clusters: [undefined], maxPending: 10_000, dedupe, clock, requestedAt, feed: (items) => fleet.submit(items), maxFailures: 1000, reporter });
 * await journal.accept({ provider: 'github', deliveryId: 'd1', cause, selectors }); // { kind: 'accepted', ticket }
 */
export function createJournal(options: JournalOptions): Journal {
  const { clock, writer } = options;
  const owed: Owed = { pending: createPendingWork(options.clusters), failures: createFailureList(options.maxFailures), changed: new Map(), nextSeq: 1 };
  if (options.initial) load(owed, options.initial, options);
  // Absent with `store: memory`: nothing is written, and an accepted delivery is answered at once.
  const commits: GroupCommit | undefined = writer && createGroupCommit({
    writer,
    dedupe: options.dedupe,
    committed: (durationMs, deliveries, error) => options.reporter.committed(durationMs, deliveries, error),
    ...(options.initialError !== undefined ? { initialError: options.initialError } : {}),
    defer: options.defer ?? ((run) => void setImmediate(run)),
    deferLazily: options.deferLazily ?? ((run) => void setTimeout(run, LAZY_COMMIT_MS)),
    takeOver: (state) => takeOver(owed, state, options),
    prepare: (batch) => prepareCommit(owed, batch, options),
    changed: () => owed.changed.size > 0 || owed.failures.changes().size > 0 || options.relay?.dirty() === true,
  });
  const report = () => reportOwed(owed, options);
  // Settles, expansions, retries and the delivery log's records ride the next delivery's commit, or one of their own a
  // moment later: none of them is a promise to a sender, so none costs a commit of its own under load.
  const schedule = () => commits?.scheduleLazily();

  return {
    accept: (delivery) => accept(owed, delivery, options, commits),
    settle(id, revision, settlement) {
      const item = settleLocally(owed, id, revision);
      if (item && settlement.kind === 'failed') owed.failures.keep(item, settlement, clock.now());
      schedule();
      report();
    },
    expand(query, names) {
      // Each object becomes an item of its own before the query is settled, in the same commit: a crash in between
      // leaves the query owed (listed again at the next start), never neither. A newer delivery folded into the
      // query meanwhile keeps it owed: it is listed again for that one.
      const named = names.map((name) => namedItem(query, name, owed.nextSeq++));
      for (const item of named) owe(owed, item);
      settleLocally(owed, query.id, query.revision);
      schedule();
      report();
      if (named.length > 0) options.feed(named);
    },
    replay() {
      const items = owed.pending.all();
      if (items.length > 0) options.feed(items);
      report();
      return items.length;
    },
    pending: () => owed.pending.total(),
    failures: () => owed.failures.all(),
    retry(seqs) {
      const items = retryFailures(owed, seqs, options);
      if (items.length > 0) options.feed(items);
      schedule();
      report();
      return items.length;
    },
    flush: () => commits?.flush() ?? Promise.resolve(),
    flushSoon: schedule,
    health: () => commits?.health() ?? (options.initialError === undefined ? { ok: true } : { ok: false, error: options.initialError }),
    check: () => commits?.check() ?? Promise.resolve(),
    expireFailures(time) {
      owed.failures.expire(time);
      schedule();
      report();
    },
  };
}

/** What a store read back: owed items (those of a cluster the config no longer names become failures), failures, ids. */
function load(owed: Owed, state: JournalState, options: JournalOptions): void {
  owed.nextSeq = Math.max(owed.nextSeq, state.nextSeq);
  owed.failures.load(state.failures);
  for (const item of state.items) {
    if (options.clusters.includes(item.cluster)) owed.pending.put(item);
    else {
      // Owed in a cluster the config no longer names: kept as a failure, so it is seen (and can be retried if it returns).
      owed.changed.set(item.id, null);
      owed.failures.keep(item, { kind: 'failed', outcome: 'failed', error: `cluster ${item.cluster ?? '(kubernetes:)'} is no longer configured`, attempts: 0 }, options.clock.now());
    }
  }
  for (const seen of state.seen) options.dedupe.remember(seen.provider, seen.deliveryId, seen.at);
  if (state.relay) options.relay?.restore(state.relay);
}

/** A store opened only now (it could not be at start): what it owed is taken over first. Nothing was accepted meanwhile. */
function takeOver(owed: Owed, state: JournalState, options: JournalOptions): void {
  load(owed, state, options);
  const items = owed.pending.all();
  options.opened?.(items.length);
  if (items.length > 0) options.feed(items);
}

function reportOwed(owed: Owed, options: JournalOptions): void {
  for (const cluster of options.clusters) options.reporter.pending(cluster, owed.pending.count(cluster));
  options.reporter.failures(owed.failures.size());
}

/** Folds `item` into what is owed, to be written by the next commit. */
function owe(owed: Owed, item: WorkItem): void {
  const next = fold(owed.pending.get(item.id), item);
  owed.pending.put(next);
  owed.changed.set(next.id, next);
}

/** Settles the item unless a newer delivery folded into it since `revision`; returns it when settled. */
function settleLocally(owed: Owed, id: string, revision: number): WorkItem | undefined {
  const item = owed.pending.get(id);
  if (item === undefined || item.revision > revision) return undefined;
  owed.pending.delete(id);
  owed.changed.set(id, null);
  return item;
}

/** Duplicate? → room in a cluster it concerns? → ticket → its items, answered at once (memory) or after their commit. */
function accept(owed: Owed, delivery: AcceptedDelivery, options: JournalOptions, commits: GroupCommit | undefined): AcceptOutcome | Promise<AcceptOutcome> {
  const { dedupe } = options;
  if (delivery.deliveryId !== undefined && dedupe.seen(delivery.provider, delivery.deliveryId)) return { kind: 'duplicate' };
  const acceptedAt = options.clock.now();
  const ticket: Ticket = { seq: owed.nextSeq, acceptedAt, cause: delivery.cause };
  const value = commits !== undefined ? mintValue(acceptedAt, options.requestedAt) : () => undefined;
  const { taken, refused } = planDelivery(delivery, ticket, value, { ...options, pending: owed.pending, staged: (cluster) => commits?.stagedIn(cluster) ?? 0 });
  if (taken.length === 0 && refused.length > 0) {
    if (delivery.deliveryId !== undefined) dedupe.forget(delivery.provider, delivery.deliveryId);
    return { kind: 'full' };
  }
  owed.nextSeq += 1;
  for (const group of refused) options.refused?.(group.cluster, ticket, group.selectors);
  if (commits === undefined) {
    if (delivery.relay) options.relay?.appendNow(delivery.relay, acceptedAt);
    for (const item of taken) owed.pending.put(fold(owed.pending.get(item.id), item));
    if (taken.length > 0) options.feed(taken);
    reportOwed(owed, options);
    return { kind: 'accepted', ticket };
  }
  return new Promise<AcceptOutcome>((resolve) => commits.stage({ ticket, items: taken, provider: delivery.provider, ...optional('deliveryId', delivery.deliveryId), ...optional('relay', delivery.relay), resolve }));
}

interface Room {
  clusters: readonly (string | undefined)[];
  maxPending: number;
  pending: PendingWork;
  /** Items of the cluster accepted but not yet written. */
  staged(cluster: string | undefined): number;
}

/** The delivery's items, one per object or query and cluster, grouped by whether the cluster has room. */
function planDelivery(delivery: AcceptedDelivery, ticket: Ticket, value: (selector: ObjectSelector) => string | undefined, room: Room) {
  const byCluster = new Map<string | undefined, Map<string, { item: WorkItem; selector: ObjectSelector }>>();
  for (const selector of delivery.selectors) {
    for (const cluster of selector.clusters ?? room.clusters) {
      if (!room.clusters.includes(cluster)) continue;
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
    if (room.pending.hasRoom(cluster, entries.map((entry) => entry.item.id), room.maxPending, room.staged(cluster))) taken.push(...entries.map((entry) => entry.item));
    else refused.push({ cluster, selectors: entries.map((entry) => entry.selector) });
  }
  return { taken, refused };
}

/** The annotation value for a selector, minted once per delivery (a fixed value wins). */
function mintValue(now: number, requestedAt: (now: Date) => string): (selector: ObjectSelector) => string | undefined {
  let minted: string | undefined;
  return (selector) => selector.annotation.fixedValue ?? (minted ??= requestedAt(new Date(now)));
}

/** Owes the failed items again (all, or those with these seqs), each with a new ticket and value. */
function retryFailures(owed: Owed, seqs: readonly number[] | undefined, options: JournalOptions): WorkItem[] {
  const now = options.clock.now();
  const value = options.writer !== undefined ? mintValue(now, options.requestedAt) : () => undefined;
  return owed.failures.take(seqs).map((failure) => {
    const cause = failure.item.tickets.at(-1)?.cause;
    const ticket: Ticket = { seq: owed.nextSeq++, acceptedAt: now, ...(cause ? { cause } : {}) };
    const again: WorkItem = { ...failure.item, revision: ticket.seq, tickets: [...failure.item.tickets.slice(1 - MAX_ITEM_TICKETS), ticket], since: now, ...optional('value', value(failure.item.selector)) };
    owe(owed, again);
    return again;
  });
}

/**
 * The commit of these deliveries: their items folded into what is owed, with every other change since the last one.
 * With a writer that answers later, settles and retries go on while the commit is in flight: a change is taken off
 * the list only if it is still the one written, and an item this commit folds that changed meanwhile is written
 * again as it stands then.
 */
function prepareCommit(owed: Owed, batch: readonly Staged[], options: JournalOptions): PreparedCommit {
  const folded = new Map<string, WorkItem>();
  for (const entry of batch) for (const item of entry.items) folded.set(item.id, fold(folded.get(item.id) ?? owed.pending.get(item.id), item));
  const sent = new Map<string, WorkItem | null>(owed.changed);
  const items = new Map<string, WorkItem | null>(sent);
  for (const [id, item] of folded) items.set(id, item);
  const failures = new Map(owed.failures.changes());
  const seen = batch.flatMap((entry) => (entry.deliveryId !== undefined ? [{ provider: entry.provider, deliveryId: entry.deliveryId, at: entry.ticket.acceptedAt }] : []));
  const relay = options.relay?.prepare(batch.flatMap((entry) => entry.relay ?? []));
  return {
    changes: { items, failures, seen, nextSeq: owed.nextSeq, ...optional('relay', relay?.changes) },
    written() {
      relay?.written(options.clock.now());
      for (const [id, item] of sent) if (owed.changed.get(id) === item) owed.changed.delete(id);
      owed.failures.written(failures);
      for (const item of folded.values()) {
        owed.pending.put(item);
        if (owed.changed.has(item.id)) owed.changed.set(item.id, item);
      }
      const fed = batch.flatMap((entry) => entry.items);
      if (fed.length > 0) options.feed(fed);
      reportOwed(owed, options);
    },
    failed() {
      // Nothing to undo: the changes stay listed for the next commit, the deliveries are refused by the caller.
    },
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
