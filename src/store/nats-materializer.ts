/**
 * Folds accepted deliveries into the work bucket. Every replica pulls from the one durable consumer of the stream
 * `<name>-accepted`, so each message goes to one of them; it folds the message's items in and only then acks it (the
 * work queue then drops it). A replica that dies mid-way leaves the message unacked: JetStream hands it to another
 * after MATERIALIZE_ACK_WAIT_MS, and folding it again adds nothing (nats-work.ts foldItem).
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { delay, type Clock } from '../core/index.ts';
import { decodeAccepted, itemsOf, type AcceptedMessage } from './nats-accepted.ts';
import { MATERIALIZE_ACK_WAIT_MS } from './nats-layout.ts';
import { foldItem, type WorkSet } from './nats-work.ts';

export interface MaterializerOptions {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  kv: KV;
  work: WorkSet;
  timeoutMs: number;
  clock: Clock;
  failed(operation: string, error: string): void;
  /** A delivery's message was folded in (before it is acked): its record is kept in the shared log. */
  folded(message: AcceptedMessage, seq: number): Promise<void>;
  /** A relay's edge: the delivery's events for subscribers, published before the message is acked. */
  relay?(message: AcceptedMessage, seq: number): Promise<void>;
  /** A message that is not an accepted delivery: acked and dropped (it would come back forever). */
  unreadable(seq: number, error: string): void;
}

/** Items folded at once per message (a delivery of thousands of objects is many compare-and-sets). */
const CONCURRENCY = 32;
/** Waits before the consumer is looked for again after it failed (NATS away, its leader moving). */
const RESTART_MS = 1_000;

/** Runs `work` over `inputs`, `limit` at a time. */
export async function eachLimited<T>(inputs: readonly T[], limit: number, work: (input: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) await work(inputs[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
}

/**
 * @example
 * const materializer = startMaterializer({ js, stream: 'fluxgate-accepted', consumer: 'fluxgate-materializer', kv, work, timeoutMs: 3000, failed, unreadable });
 * await materializer.stop();
 */
export function startMaterializer(options: MaterializerOptions): { restart(): void; stop(): Promise<void> } {
  let stopped = false;
  let current: { stop(): void } | undefined;
  const stopping = new AbortController();

  async function materialize(message: JsMsg): Promise<void> {
    let items;
    let accepted: AcceptedMessage;
    try {
      accepted = decodeAccepted(message.string());
      items = itemsOf(accepted, message.seq);
    } catch (error) {
      options.unreadable(message.seq, (error as Error).message);
      message.ack();
      return;
    }
    // A large delivery takes a while: the message stays this replica's meanwhile.
    let working: unknown;
    const keepWorking = () => {
      working = options.clock.setTimer(() => {
        message.working();
        keepWorking();
      }, MATERIALIZE_ACK_WAIT_MS / 3);
    };
    keepWorking();
    try {
      await eachLimited(items, CONCURRENCY, ({ key, item }) => foldItem(options.kv, options.work, key, item, options.timeoutMs));
      if (accepted.relay && accepted.relay.length > 0) await options.relay?.(accepted, message.seq);
      if (accepted.ticket === undefined && !accepted.retry) await options.folded(accepted, message.seq);
      await message.ackAck({ timeout: options.timeoutMs });
    } catch (error) {
      options.failed('materialize', (error as Error).message);
      message.nak(RESTART_MS);
    } finally {
      options.clock.clearTimer(working);
    }
  }

  const run = async () => {
    while (!stopped) {
      try {
        const consumer = await options.js.consumers.get(options.stream, options.consumer);
        const messages = await consumer.consume({ max_messages: 16 });
        current = messages;
        // Stopped while the consumer was being looked up: nothing stopped this one.
        if (stopped) messages.stop();
        for await (const message of messages) await materialize(message);
      } catch (error) {
        if (!stopped) options.failed('materialize', (error as Error).message);
      }
      if (!stopped) await delay(options.clock, RESTART_MS, stopping.signal);
    }
  };
  const running = run();
  return {
    // The loop takes the consumer again.
    restart: () => current?.stop(),
    async stop() {
      stopped = true;
      stopping.abort();
      current?.stop();
      await running;
    },
  };
}
