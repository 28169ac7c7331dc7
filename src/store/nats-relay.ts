/**
 * The relay's log on NATS JetStream (`state.store: nats`): every edge replica serves any agent. A delivery's events
 * ride its message on `<name>-accepted` (the commit point of its 202); the replica that folds that message in
 * publishes them to the stream `<name>-relay` (one message per event, its stream sequence the event's seq) before
 * acking it, and every replica reads that stream into memory (relay-records.ts), from what it holds at start.
 * Acknowledgements are kept per subscriber in the bucket `<name>-relay-cursors`, only ever moved forward.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { RelayEvent, RelayPublication } from '../pipeline/index.ts';
import type { Clock } from '../core/index.ts';
import type { RelayLog, RelayRetention } from './relay-log.ts';
import { createRelayRecords, type RelayRecord, type RelayRecords } from './relay-records.ts';
import { superviseWatch, type SupervisedWatch } from './nats-watch.ts';

export interface NatsRelayOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  subject: string;
  cursors: KV;
  retention: RelayRetention;
  clock: Clock;
  timeoutMs: number;
  failed(operation: string, error: string): void;
}

export interface NatsRelay {
  log: RelayLog;
  /** Publishes a delivery's events (its accepted message's `seq` keeps a retry from publishing them twice). */
  publish(publications: readonly RelayPublication[], acceptedSeq: number): Promise<void>;
  /** Reads on from the last message read (after the connection came back). */
  restart(): void;
  position(): number;
  /** Retention by age, in memory (the stream drops its own). */
  maintain(now: number): void;
  stop(): void;
}

/** A stored event: the publication, as the stream keeps it. */
interface RelayMessage {
  to: string[];
  event: RelayEvent;
}

/** Retries of a cursor NATS could not take wait this long. */
const CURSOR_RETRY_MS = 1_000;
/** Compare-and-sets lost to other replicas before a write waits for its retry. */
const CURSOR_ATTEMPTS = 5;

/**
 * @example
 * const relay = await openNatsRelay({ js, jsm, stream: 'fluxgate-relay', subject: 'fluxgate.relay', cursors, retention, clock, timeoutMs, failed });
 * relay.log.after(0, 'prod', 100);
 */
export async function openNatsRelay(options: NatsRelayOptions): Promise<NatsRelay> {
  const info = await options.jsm.streams.info(options.stream);
  const records = createRelayRecords(options.retention);
  // What came before the first message kept is gone: first() starts there even while the stream is empty.
  records.reset(info.state.first_seq - 1);
  const listeners = new Set<(appended: readonly RelayRecord[]) => void>();
  const reader = streamReader(options, records, (appended) => {
    records.trim(options.clock.now());
    for (const listener of listeners) listener(appended);
  });
  const cursors = cursorStore(options);
  await Promise.all([reader.start(info.state.last_seq), cursors.watch.ready]);
  const log: RelayLog = {
    stream: () => Date.parse(info.created).toString(36),
    first: () => records.first(),
    head: () => records.head(),
    after: (seq, subscriber, max) => records.after(seq, subscriber, max),
    acknowledge(subscriber, seq) {
      const before = cursors.get(subscriber);
      cursors.acknowledge(subscriber, seq);
      return seq > before ? records.countAfter(before, subscriber, seq) : 0;
    },
    acknowledged: (subscriber) => cursors.get(subscriber),
    pending: (subscriber) => records.countAfter(cursors.get(subscriber), subscriber),
    follow(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    size: () => records.size(),
  };
  return {
    log,
    async publish(publications, acceptedSeq) {
      for (const [index, publication] of publications.entries()) {
        const body: RelayMessage = { to: [...publication.to], event: publication.event };
        await options.js.publish(options.subject, JSON.stringify(body), { timeout: options.timeoutMs, msgID: `${acceptedSeq}:${index}` });
      }
    },
    restart() {
      void reader.start().catch((error: Error) => options.failed('relay', error.message));
      cursors.watch.restart();
    },
    position: reader.position,
    maintain: (now) => void records.trim(now),
    stop() {
      reader.stop();
      cursors.stop();
    },
  };
}

/**
 * Reads the relay stream into the records, from what it holds, then on from the last message read. `start(until)`
 * resolves once the messages up to `until` (the stream's last at open) are read.
 */
function streamReader(options: NatsRelayOptions, records: RelayRecords, appended: (records: readonly RelayRecord[]) => void) {
  let reader: { stop(): void } | undefined;
  let readers = 0;
  let caughtUp: () => void = () => {};
  return {
    async start(until = 0) {
      const mine = (readers += 1);
      reader?.stop();
      const after = records.head();
      const read = new Promise<void>((resolve) => (caughtUp = resolve));
      if (after >= until) caughtUp();
      const consumer = await options.js.consumers.getPushConsumer(options.stream, after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume({
        callback: (message) => {
          if (mine !== readers || message.seq <= records.head()) return;
          try {
            const body = message.json<RelayMessage>();
            const record = { seq: message.seq, to: body.to, event: body.event, bytes: message.data.length };
            records.append([record]);
            appended([record]);
          } catch {
            // not a relay message (another writer): skipped
            records.reset(message.seq);
          }
          if (message.seq >= until) caughtUp();
        },
      });
      if (mine !== readers) messages.stop();
      else reader = messages;
      await read;
    },
    position: () => records.head(),
    stop() {
      readers += 1;
      reader?.stop();
    },
  };
}

/** Each subscriber's acknowledged seq: watched into memory, written forward only (compare-and-set), one write at a time each. */
function cursorStore(options: NatsRelayOptions) {
  const known = new Map<string, number>();
  const writing = new Set<string>();
  const write = async (subscriber: string): Promise<void> => {
    writing.add(subscriber);
    try {
      // Another replica may move it at the same moment: a compare-and-set that lost reads it again.
      for (let attempt = 1; ; attempt += 1) {
        const wanted = known.get(subscriber) ?? 0;
        const entry = await options.cursors.get(subscriber);
        const stored = entry?.operation === 'PUT' ? Number(entry.string()) : 0;
        if (stored >= wanted) return;
        try {
          if (entry) await options.cursors.update(subscriber, String(wanted), entry.revision, options.timeoutMs);
          else await options.cursors.create(subscriber, String(wanted));
        } catch (error) {
          if (attempt >= CURSOR_ATTEMPTS) throw error;
        }
      }
    } catch (error) {
      options.failed('relay-cursor', (error as Error).message);
      options.clock.setTimer(() => void (writing.has(subscriber) ? undefined : write(subscriber)), CURSOR_RETRY_MS);
    } finally {
      writing.delete(subscriber);
    }
  };
  const watch: SupervisedWatch = superviseWatch(
    options.cursors,
    '>',
    options.clock,
    {
      begin() {},
      entry(entry) {
        const seq = entry.operation === 'PUT' ? Number(entry.string()) : 0;
        if (Number.isFinite(seq) && seq > (known.get(entry.key) ?? 0)) known.set(entry.key, seq);
      },
      caughtUp() {},
    },
    (error) => options.failed('relay-cursor', error),
  );
  return {
    watch,
    get: (subscriber: string) => known.get(subscriber) ?? 0,
    // Not checked against this replica's head: the agent may have the event from another replica that read it first.
    acknowledge(subscriber: string, seq: number) {
      if (seq <= (known.get(subscriber) ?? 0)) return;
      known.set(subscriber, seq);
      if (!writing.has(subscriber)) void write(subscriber);
    },
    stop: () => watch.stop(),
  };
}
