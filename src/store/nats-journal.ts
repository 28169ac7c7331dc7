/**
 * The journal on NATS JetStream: the same promise as journal.ts, kept by several replicas at once.
 *
 * Accepting a delivery: duplicate here? → room in a cluster it concerns (over every replica's owed items)? → one
 * publish to `<name>-accepted` with `Nats-Msg-Id: <provider>:<delivery id>`, and the answer waits for JetStream's
 * ack: stored (on R nodes) → 202, the stream's sequence is the ticket; a duplicate of a delivery any replica took →
 * duplicate; no ack (NATS away, a timeout, the stream full) → 503, and the id is forgotten so the provider's retry
 * is taken. From the stream, a replica folds the delivery into the work bucket (nats-materializer.ts), and the
 * replica owning each object's partition hands it to reconcile (nats-feeder.ts).
 *
 * Settling: a patch that started with revision r deletes the item if it is still at r (a newer delivery folded in
 * keeps it owed); a failure that will not change goes to the failures first. A settle NATS could not take is tried
 * again at the next check; lost with the process, it costs one extra patch by the next owner, never a missing one.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { AcceptedDelivery, AcceptOutcome } from '../pipeline/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';
import type { Settlement } from '../reconcile/index.ts';
import type { FailureRecord, Journal, JournalOptions } from './journal.ts';
import { encodeAccepted, storedSelector, type AcceptedItem } from './nats-accepted.ts';
import type { Feeder } from './nats-feeder.ts';
import type { SharedFailures } from './nats-failures.ts';
import { MAX_MESSAGE_BYTES } from './nats-layout.ts';
import { eachLimited } from './nats-materializer.ts';
import { sharedPartition, workKey } from './nats-partitions.ts';
import { deleteItem, foldItem, type StoredItem, type WorkSet } from './nats-work.ts';
import { itemId, namedItem } from './work.ts';

/** What every journal is given (journal.ts), and what the shared one needs of NATS. */
export interface NatsJournalOptions extends Pick<JournalOptions, 'clusters' | 'maxPending' | 'dedupe' | 'clock' | 'requestedAt' | 'refused' | 'reporter'> {
  js: JetStreamClient;
  /** The stream's subject accepted deliveries are published on. */
  subject: string;
  replica: string;
  work: WorkSet;
  kv: KV;
  failures: SharedFailures;
  feeder: Feeder;
  timeoutMs: number;
  /** Whether the client is connected now (while it reconnects, webhooks get 503 at once rather than after a timeout). */
  connected(): boolean;
  /** Asks JetStream whether it answers (the periodic check); throws when it does not. */
  ping(): Promise<void>;
  /** A NATS operation other than the commit failed (counted, and retried at the next check). */
  failed(operation: string, error: string): void;
}

export interface NatsJournal extends Journal {
  /** Work changed (from the watcher): the gauges follow. */
  report(): void;
}

/** A message a bit under the limit: headers and the chunk's own fields fit beside the items. */
const CHUNK_BYTES = MAX_MESSAGE_BYTES - 16 * 1024;

/**
 * @example
 * const journal = createNatsJournal({ clusters: [undefined], maxPending: 10_000, dedupe, clock, requestedAt, reporter, js, subject, replica, work, kv, failures, feeder, timeoutMs: 3000, connected, ping, failed });
 * await journal.accept(delivery); // { kind: 'accepted', ticket: { seq: <stream sequence>, … } }
 */
export function createNatsJournal(options: NatsJournalOptions): NatsJournal {
  const { dedupe, reporter, work, failures, feeder } = options;
  const state: NatsState = { commitError: undefined, nextFilter: 0, inFlight: new Map(), retrying: new Map() };
  const attempt = (operation: string, key: string, run: () => Promise<void>) => attemptWrite(state, options, operation, key, run);
  const report = () => {
    for (const cluster of options.clusters) reporter.pending(cluster, work.counts.count(cluster));
    reporter.failures(failures.size());
  };
  return {
    accept(delivery) {
      if (delivery.deliveryId !== undefined && dedupe.seen(delivery.provider, delivery.deliveryId)) return { kind: 'duplicate' };
      return publish(state, options, delivery);
    },
    settle(id, revision, settlement) {
      const entry = work.get(id);
      // Settled already, or a newer delivery was folded in since this patch started: it stays owed for that one.
      if (entry === undefined || entry.item.revision > revision) return;
      attempt('settle', entry.key, settleKey(options, entry.key, entry.item, revision, settlement));
    },
    expand(query, names) {
      const entry = work.get(query.id);
      if (entry === undefined) return;
      // Each object becomes an item of its own (in its own partition) before the query is settled: a crash in
      // between leaves the query owed, listed again by its owner, never neither.
      const named = names.map((name) => {
        const { filterRef: _ref, ...item } = namedItem(query, name, 0) as StoredItem;
        return item;
      });
      attempt('expand', entry.key, async () => {
        await eachLimited(named, 32, (item) => foldItem(options.kv, work, workKey(sharedPartition(item.id), item.id), item, options.timeoutMs));
        await settleKey(options, entry.key, entry.item, query.revision, { kind: 'done' })();
      });
    },
    replay() {
      const count = feeder.start();
      report();
      return count;
    },
    pending: () => work.counts.total(),
    failures: () => failures.list(),
    retry(seqs) {
      const chosen = seqs === undefined ? failures.list() : seqs.flatMap((seq) => failures.get(seq) ?? []);
      for (const failure of chosen) attempt('retry', `f.${failure.seq}`, () => owedAgain(options, failure));
      return chosen.length;
    },
    // Each delivery is its own publish, answered once JetStream has it: nothing waits to be written.
    flush: async () => {},
    flushSoon() {},
    expireFailures(time) {
      for (const failure of failures.list()) if (failure.failedAt < time) attempt('retention', `f.${failure.seq}`, () => failures.remove(failure.seq));
    },
    health() {
      if (!options.connected()) return { ok: false, error: 'NATS is not connected' };
      return state.commitError === undefined ? { ok: true } : { ok: false, error: state.commitError };
    },
    check: () => check(state, options),
    report,
  };
}

/** What one replica's journal keeps beside NATS: owned by the journal, changed by the functions below. */
interface NatsState {
  /** Why the last publish (or check) failed; undefined once one succeeds. */
  commitError: string | undefined;
  nextFilter: number;
  /** Items of deliveries being published, per cluster: counted as owed by the room check. */
  inFlight: Map<string | undefined, number>;
  /** Settles and expansions NATS could not take, by item key: tried again at the next check. */
  retrying: Map<string, () => Promise<void>>;
}

type Taken = { cluster: string | undefined; item: AcceptedItem; filter?: ObjectSelector['filter'] };

/** The delivery's items per cluster, grouped by whether the cluster has room (over every replica's owed items). */
function plan(delivery: AcceptedDelivery, options: NatsJournalOptions, inFlight: ReadonlyMap<string | undefined, number>) {
  const byCluster = new Map<string | undefined, Map<string, { item: AcceptedItem; selector: ObjectSelector }>>();
  for (const selector of delivery.selectors) {
    for (const cluster of selector.clusters ?? options.clusters) {
      if (!options.clusters.includes(cluster)) continue;
      let items = byCluster.get(cluster);
      if (!items) byCluster.set(cluster, (items = new Map()));
      // A filter's item is the delivery's own: never one already owed.
      const id = selector.filter !== undefined ? `\u0000filter|${selector.key}` : itemId(cluster, selector, 0);
      if (!items.has(id)) items.set(id, { item: { ...(cluster !== undefined ? { cluster } : {}), selector: storedSelector(selector) }, selector });
    }
  }
  const taken: Taken[] = [];
  const refused: { cluster: string | undefined; selectors: ObjectSelector[] }[] = [];
  for (const [cluster, items] of byCluster) {
    if (options.work.counts.hasRoom(cluster, [...items.keys()], options.maxPending, inFlight.get(cluster) ?? 0)) {
      for (const { item, selector } of items.values()) taken.push({ cluster, item, ...(selector.filter ? { filter: selector.filter } : {}) });
    } else refused.push({ cluster, selectors: [...items.values()].map((entry) => entry.selector) });
  }
  return { taken, refused };
}

/** Publishes an accepted delivery and answers once JetStream acked it (or did not: 503). */
async function publish(state: NatsState, options: NatsJournalOptions, delivery: AcceptedDelivery): Promise<AcceptOutcome> {
  const { dedupe, feeder, reporter } = options;
  const startedAt = performance.now();
  if (!options.connected()) return unavailable(state, options, delivery, [], 'NATS is not connected', startedAt);
  const acceptedAt = options.clock.now();
  const { taken, refused } = plan(delivery, options, state.inFlight);
  if (taken.length === 0 && refused.length > 0) {
    if (delivery.deliveryId !== undefined) dedupe.forget(delivery.provider, delivery.deliveryId);
    return { kind: 'full' };
  }
  const refs: string[] = [];
  const items = taken.map(({ item, filter }) => {
    if (filter === undefined) return item;
    const ref = `${options.replica}-${(state.nextFilter += 1)}`;
    feeder.keepFilter(ref, filter);
    refs.push(ref);
    return { ...item, filterRef: ref };
  });
  const counted = new Map<string | undefined, number>();
  for (const { cluster } of taken) counted.set(cluster, (counted.get(cluster) ?? 0) + 1);
  for (const [cluster, count] of counted) state.inFlight.set(cluster, (state.inFlight.get(cluster) ?? 0) + count);
  let published: { seq: number; duplicate: boolean };
  try {
    published = await publishAccepted(options, delivery, acceptedAt, items);
  } catch (error) {
    return unavailable(state, options, delivery, refs, (error as Error).message, startedAt);
  } finally {
    for (const [cluster, count] of counted) state.inFlight.set(cluster, (state.inFlight.get(cluster) ?? 0) - count);
  }
  reporter.committed(performance.now() - startedAt, 1);
  state.commitError = undefined;
  if (published.duplicate) {
    for (const ref of refs) feeder.forgetFilter(ref);
    return { kind: 'duplicate' };
  }
  const ticket: Ticket = { seq: published.seq, acceptedAt, ...(delivery.cause ? { cause: delivery.cause } : {}) };
  for (const group of refused) options.refused?.(group.cluster, ticket, group.selectors);
  return { kind: 'accepted', ticket };
}

/** The delivery on the stream, in chunks; the first one's sequence is the ticket. A duplicate when every chunk was. */
async function publishAccepted(options: NatsJournalOptions, delivery: AcceptedDelivery, acceptedAt: number, items: readonly AcceptedItem[]): Promise<{ seq: number; duplicate: boolean }> {
  const msgID = delivery.deliveryId !== undefined ? `${delivery.provider}:${delivery.deliveryId}` : undefined;
  const { head, rest } = encodeAccepted({ acceptedAt, ...(delivery.cause ? { cause: delivery.cause } : {}), ...(delivery.deliveryId !== undefined ? { deliveryId: delivery.deliveryId } : {}), replica: options.replica, value: options.requestedAt(new Date(acceptedAt)), ...(delivery.relay ? { relay: [...delivery.relay] } : {}) }, items, CHUNK_BYTES);
  const first = await options.js.publish(options.subject, head, { timeout: options.timeoutMs, ...(msgID ? { msgID } : {}) });
  let duplicate = first.duplicate;
  // The rest of a large delivery: each with its own id, so a retry after a partial publish completes it.
  for (const [index, body] of rest(first.seq).entries()) {
    const ack = await options.js.publish(options.subject, body, { timeout: options.timeoutMs, ...(msgID ? { msgID: `${msgID}:${index + 1}` } : {}) });
    duplicate &&= ack.duplicate;
  }
  return { seq: first.seq, duplicate };
}

/** The publish failed: nothing is accepted, the id is forgotten so the provider's retry is taken, and the answer is 503. */
function unavailable(state: NatsState, options: NatsJournalOptions, delivery: AcceptedDelivery, refs: readonly string[], error: string, startedAt: number): AcceptOutcome {
  if (delivery.deliveryId !== undefined) options.dedupe.forget(delivery.provider, delivery.deliveryId);
  for (const ref of refs) options.feeder.forgetFilter(ref);
  options.reporter.committed(performance.now() - startedAt, 1, error);
  state.commitError = error;
  return { kind: 'unavailable', reason: `the state store cannot be written: ${error}` };
}

/** Runs a write; when NATS cannot take it, keeps it under `key` for the next check. */
function attemptWrite(state: NatsState, options: NatsJournalOptions, operation: string, key: string, run: () => Promise<void>): void {
  state.retrying.delete(key);
  run().catch((error) => {
    options.failed(operation, (error as Error).message);
    if (!state.retrying.has(key)) state.retrying.set(key, run);
  });
}

/** The write that settles an item: a failure kept first (when it failed), then the item deleted if still at `revision`. */
function settleKey(options: NatsJournalOptions, key: string, item: StoredItem, revision: number, settlement: Settlement): () => Promise<void> {
  return async () => {
    if (settlement.kind === 'failed') {
      const { filterRef: _ref, ...owed } = item;
      const failure: FailureRecord = { seq: revision, item: { ...owed, selector: storedSelector(owed.selector) }, outcome: settlement.outcome, error: settlement.error, attempts: settlement.attempts, failedAt: options.clock.now() };
      if (options.failures.get(failure.seq) === undefined) await options.failures.add(failure);
    }
    if ((await deleteItem(options.kv, key, revision)) && item.filterRef !== undefined) options.feeder.forgetFilter(item.filterRef);
  };
}

/** A failure owed again: published as a new delivery (a retry), then taken off the failures. */
async function owedAgain(options: NatsJournalOptions, failure: FailureRecord): Promise<void> {
  const now = options.clock.now();
  const { item } = failure;
  const cause = item.tickets.at(-1)?.cause;
  const owed: AcceptedItem = { ...(item.cluster !== undefined ? { cluster: item.cluster } : {}), selector: item.selector, ...(item.filtered ? { filtered: true as const } : {}) };
  const { head } = encodeAccepted({ acceptedAt: now, ...(cause ? { cause } : {}), replica: options.replica, retry: true, value: options.requestedAt(new Date(now)) }, [owed], CHUNK_BYTES);
  await options.js.publish(options.subject, head, { timeout: options.timeoutMs });
  await options.failures.remove(failure.seq);
}

/** The periodic check: whether JetStream answers; when it does, the writes it could not take are tried again. */
function check(state: NatsState, options: NatsJournalOptions): Promise<void> {
  return options.ping().then(
    () => {
      if (state.commitError !== undefined) options.reporter.committed(0, 0);
      state.commitError = undefined;
      const owed = [...state.retrying];
      state.retrying.clear();
      for (const [key, run] of owed) attemptWrite(state, options, 'settle', key, run);
    },
    (error: Error) => {
      state.commitError = error.message;
      options.failed('check', error.message);
    },
  );
}
