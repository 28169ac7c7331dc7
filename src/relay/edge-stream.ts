/**
 * One agent's stream on the edge: a ReadableStream that the HTTP server pulls as the socket takes bytes. Events are
 * read from the store's relay log only when the stream has room (`maxBufferedBytes`): an agent that reads slowly
 * holds at most that much of the edge's memory and never holds up another stream, and one that takes nothing for
 * `stallTimeout` is closed (it resumes from what it acknowledged). With nothing to send, a signed `sync` each
 * heartbeat says "nothing more for you up to here" (the agent acknowledges it, so an idle agent's place moves on).
 */
import type { Clock } from '../core/index.ts';
import type { RelayLog, RelayRecord } from '../store/index.ts';
import type { Subscriber } from './subscribers.ts';
import { eventId, frame, type FrameType } from './wire.ts';

export interface StreamLimits {
  maxBufferedBytes: number;
  heartbeatMs: number;
  stallTimeoutMs: number;
}

/** Why a stream ended. */
export type StreamEnd = 'closed' | 'stalled' | 'removed' | 'shutdown';

export interface StreamOptions {
  log: RelayLog;
  /** The subscriber as configured now (a reload may change its filter); undefined once it is removed. */
  subscriber(): Subscriber | undefined;
  name: string;
  /** The first frames (hello, and a gap when events were lost), and the seq the stream resumes after. */
  opening: { frames: { id?: string; type: FrameType; data: string }[]; after: number };
  limits: StreamLimits;
  clock: Clock;
  /** An event's JSON (the same for every subscriber: cached by the edge). */
  json(record: RelayRecord): string;
  delivered(count: number): void;
  ended(reason: StreamEnd): void;
}

/** Records read from the log per pull at most (a pull also stops once the stream is full). */
const BATCH = 64;

/**
 * @example
 * const { stream, close } = openEventStream({ log, subscriber: () => current, name: 'prod', opening, limits, clock, json, delivered, ended });
 * return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
 */
export function openEventStream(options: StreamOptions): { stream: ReadableStream<Uint8Array>; close(reason: StreamEnd): void } {
  const { clock, limits } = options;
  const encoder = new TextEncoder();
  const state = { cursor: options.opening.after, ended: false, pulling: false, idleSince: clock.now() };
  let wake: (() => void) | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const unfollow = options.log.follow(() => wake?.());
  const end = (reason: StreamEnd) => {
    if (state.ended) return;
    state.ended = true;
    unfollow();
    clock.clearTimer(watchdog);
    wake?.();
    options.ended(reason);
  };
  // Not pulled for stallTimeout while it is full: the agent takes nothing.
  const check = () => {
    if (state.ended) return;
    if (!state.pulling && clock.now() - state.idleSince >= limits.stallTimeoutMs) return close('stalled');
    watchdog = clock.setTimer(check, Math.max(50, Math.min(limits.heartbeatMs, limits.stallTimeoutMs / 4)));
  };
  let watchdog = clock.setTimer(check, Math.max(50, Math.min(limits.heartbeatMs, limits.stallTimeoutMs / 4)));
  const close = (reason: StreamEnd) => {
    if (state.ended) return;
    end(reason);
    try {
      if (reason === 'stalled') controller.error(new Error('the agent took nothing'));
      else controller.close();
    } catch {
      // already closed by the other side
    }
  };
  const send = (message: { id?: string; type: FrameType; data: string }) => {
    const subscriber = options.subscriber();
    if (subscriber) controller.enqueue(encoder.encode(frame(subscriber.signing, message)));
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(opened) {
        controller = opened;
        for (const message of options.opening.frames) send(message);
      },
      async pull() {
        state.pulling = true;
        try {
          await fill(options, state, send, (ready) => (wake = ready), () => close('removed'));
        } finally {
          wake = undefined;
          state.pulling = false;
          state.idleSince = clock.now();
        }
      },
      cancel: () => end('closed'),
    },
    new ByteLengthQueuingStrategy({ highWaterMark: limits.maxBufferedBytes }),
  );
  return { stream, close };
}

/** One pull: the next events for this subscriber, or after a heartbeat with nothing to send, a `sync`. */
async function fill(options: StreamOptions, state: { cursor: number; ended: boolean }, send: (message: { id?: string; type: FrameType; data: string }) => void, waitWith: (wake: () => void) => void, removed: () => void): Promise<void> {
  const { log, clock } = options;
  const heartbeatAt = clock.now() + options.limits.heartbeatMs;
  while (!state.ended) {
    const subscriber = options.subscriber();
    if (!subscriber) return removed();
    const records = log.after(state.cursor, options.name, BATCH);
    let sent = 0;
    for (const record of records) {
      state.cursor = record.seq;
      // Kept for it when accepted; a filter narrowed since (a reload) is honoured too.
      if (!subscriber.allows(record.event.provider, record.event.event)) continue;
      send({ id: eventId(log.stream(), record.seq), type: 'event', data: options.json(record) });
      sent += 1;
    }
    if (sent > 0) return options.delivered(sent);
    if (records.length > 0) continue;
    const left = heartbeatAt - clock.now();
    if (left <= 0) {
      // A heartbeat passed with nothing for it: everything up to the head is had.
      state.cursor = Math.max(state.cursor, log.head());
      return send({ id: eventId(log.stream(), state.cursor), type: 'sync', data: '{}' });
    }
    // Woken by an event (maybe another subscriber's), or at the heartbeat.
    await new Promise<void>((resolve) => {
      const timer = clock.setTimer(resolve, left);
      waitWith(() => {
        clock.clearTimer(timer);
        resolve();
      });
    });
  }
}
