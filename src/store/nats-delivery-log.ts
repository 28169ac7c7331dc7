/**
 * The delivery log shared by replicas: each replica keeps its own ring (observe/delivery-log.ts) and publishes what
 * it adds there (records it answered, effects of the patches it made) to the stream `<name>-log`, in small batches;
 * every replica reads that stream into its ring, so any replica's page and /api/deliveries show every delivery and
 * what became of it, whichever replica took it and whichever patched it. At start, a replica reads what the stream
 * still holds (bounded by count, bytes and `state.retention.maxAge`).
 *
 * The log is what people read, not the promise: a batch lost with NATS down is a gap on the page, never lost work.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { DeliverPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createDeliveryLog, type DeliveryLog, type DeliveryRecord, type FollowedObject, type ObjectEffect } from './delivery-log.ts';
import type { Clock } from '../core/index.ts';

type Entry = { add: Omit<DeliveryRecord, 'objects' | 'state'> } | { ticket: number; effect: ObjectEffect } | { ticket: number; follow: FollowedObject; push?: DeliveryRecord['push'] };

interface Batch {
  replica: string;
  entries: Entry[];
}

export interface SharedDeliveryLog {
  log: DeliveryLog;
  /**
   * Keeps an accepted delivery's record on the stream before its message is acked (the materializer): the record
   * outlives a replica killed between its 202 and its next batch. A record of the same ticket is merged, not added twice.
   */
  keep(record: Omit<DeliveryRecord, 'objects' | 'state'>): Promise<void>;
  /** Starts reading the stream (from what it holds) into the ring. */
  start(): Promise<void>;
  /** Publishes what waits. */
  flush(): void;
  /** Reads on from the last message it read (after the connection came back). */
  restart(): void;
  /** The stream sequence of the last message read. */
  position(): number;
  stop(): Promise<void>;
}

export interface SharedLogOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  stream: string;
  subject: string;
  replica: string;
  capacity: number;
  clock: Clock;
  failed(error: string): void;
}

/** A batch is published this long after its first entry at most, or once it reaches BATCH_BYTES. */
const BATCH_MS = 50;
const BATCH_BYTES = 256 * 1024;

/**
 * @example
 * const shared = sharedDeliveryLog({ nc, js, stream: 'fluxgate-log', subject: 'fluxgate.log', replica, capacity: 100, clock, failed });
 * await shared.start();
 * shared.log.add(record); // shown by every replica
 */
export function sharedDeliveryLog(options: SharedLogOptions): SharedDeliveryLog {
  const ring = createDeliveryLog(options.capacity);
  const batches = batcher(options);
  const reader = streamReader(options, ring);
  const log: DeliveryLog = {
    add(record) {
      addOrMerge(ring, record);
      batches.queue({ add: record });
    },
    effect(ticket, effect) {
      ring.effect(ticket, effect);
      batches.queue({ ticket, effect });
    },
    follow(ticket, row, push) {
      ring.follow(ticket, row, push);
      batches.queue({ ticket, follow: row, ...(push ? { push } : {}) });
    },
    recent: (filter) => ring.recent(filter),
    find: (id) => ring.find(id),
    restore: (records) => ring.restore(records),
  };
  return {
    log,
    async keep(record) {
      addOrMerge(ring, { ...record });
      await options.js.publish(options.subject, JSON.stringify({ replica: options.replica, entries: [{ add: record }] }));
    },
    start: reader.start,
    position: reader.position,
    restart() {
      void reader.start().catch((error: Error) => options.failed(error.message));
    },
    flush: batches.flush,
    async stop() {
      batches.flush();
      reader.stop();
    },
  };
}

/** This replica's entries, published in batches: BATCH_MS after the first at most, or once BATCH_BYTES wait. */
function batcher(options: SharedLogOptions): { queue(entry: Entry): void; flush(): void } {
  const { nc, clock } = options;
  let waiting: string[] = [];
  let bytes = 0;
  let timer: unknown;
  const flush = () => {
    clock.clearTimer(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const body = `{"replica":${JSON.stringify(options.replica)},"entries":[${waiting.join(',')}]}`;
    waiting = [];
    bytes = 0;
    try {
      nc.publish(options.subject, body);
    } catch (error) {
      options.failed((error as Error).message);
    }
  };
  return {
    queue(entry) {
      const text = JSON.stringify(entry);
      waiting.push(text);
      bytes += text.length;
      if (bytes >= BATCH_BYTES) flush();
      else timer ??= clock.setTimer(flush, BATCH_MS);
    },
    flush,
  };
}

/**
 * Reads the stream into the ring, from what it holds at start, then on from the last message read; a start while
 * another reader runs replaces it.
 */
function streamReader(options: SharedLogOptions, ring: DeliveryLog): { start(): Promise<void>; position(): number; stop(): void } {
  let reader: { stop(): void } | undefined;
  let lastSeq = 0;
  let readers = 0;
  return {
    async start() {
      const mine = (readers += 1);
      reader?.stop();
      const consumer = await options.js.consumers.getPushConsumer(options.stream, lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 } : { deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume({
        callback: (message) => {
          if (mine !== readers || message.seq <= lastSeq) return;
          lastSeq = message.seq;
          try {
            apply(ring, message.json<Batch>(), options.replica);
          } catch {
            // a batch that is not JSON (another writer): skipped
          }
        },
      });
      if (mine !== readers) messages.stop();
      else reader = messages;
    },
    position: () => lastSeq,
    stop() {
      readers += 1;
      reader?.stop();
    },
  };
}

/** Another replica's batch into the ring (this replica's own entries are in its ring already). */
function apply(ring: DeliveryLog, batch: Batch, replica: string): void {
  if (batch.replica === replica || !Array.isArray(batch.entries)) return;
  for (const entry of batch.entries) {
    if ('add' in entry) addOrMerge(ring, { ...entry.add });
    else if ('follow' in entry && typeof entry.ticket === 'number') ring.follow(entry.ticket, { ...entry.follow }, entry.push);
    else if ('effect' in entry && typeof entry.ticket === 'number') ring.effect(entry.ticket, { ...entry.effect });
  }
}

/** Adds the record, or fills in what the ring's record of the same delivery lacks (targets, the provider's type). */
function addOrMerge(ring: DeliveryLog, record: Omit<DeliveryRecord, 'objects' | 'state'>): void {
  const found = existingRecord(ring, record);
  if (found === undefined) return ring.add(record);
  if (found.targets.length === 0 && record.targets.length > 0) found.targets = record.targets;
  if (record.type !== record.provider) found.type = record.type;
}

/** The ring's record of this accepted delivery, if it has one (kept by the accepting replica and by the materializer). */
function existingRecord(ring: DeliveryLog, record: Omit<DeliveryRecord, 'objects' | 'state'>) {
  if (record.ticket === undefined) return undefined;
  const found = ring.find(record.deliveryId ?? `fluxgate-${record.ticket}`);
  return found?.ticket === record.ticket ? found : undefined;
}
