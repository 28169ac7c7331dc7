/**
 * The edge of a relay: it keeps each accepted delivery's events for the subscribers whose filter allows them (the
 * pipeline's relay port, written with the delivery), serves each agent's stream from the store's relay log, and
 * takes the agent's acknowledgements. An agent authenticates with the credential derived from its token
 * (credentials.ts), found by its digest and compared in constant time; it resumes after the later of what it says
 * it had (`Last-Event-ID`) and what it acknowledged here, and is told with a `gap` when events it had not
 * acknowledged are gone (retention, or a store that was replaced).
 */
import { createHash } from 'node:crypto';
import type { Clock, Logger } from '../core/index.ts';
import { safeEqual } from '../core/index.ts';
import type { RelayFilter } from '../pipeline/index.ts';
import type { RelayLog, RelayRecord } from '../store/index.ts';
import { openEventStream, type StreamEnd, type StreamLimits } from './edge-stream.ts';
import { relayFilter, type Subscriber } from './subscribers.ts';
import { encodeRelayEvent, eventId, parseEventId, type FrameType, type Hello } from './wire.ts';

export interface EdgeSettings {
  subscribers: readonly Subscriber[];
  limits: StreamLimits & { maxConnectionsPerSubscriber: number; maxEventBytes: number };
}

/** What the edge tells the observers (metrics, logs); implemented in observe/. */
export interface EdgeReporter {
  refused(reason: 'unauthorized' | 'too_many_streams' | 'shutting_down' | 'bad_request', detail: string): void;
  connected(subscriber: string, resumedAfter: string, gap: boolean): void;
  ended(subscriber: string, reason: StreamEnd): void;
  delivered(subscriber: string, count: number): void;
  acknowledged(subscriber: string, count: number): void;
}

/** A subscriber as the status page, /readyz and the gauges show it. */
export interface SubscriberStatus {
  name: string;
  streams: number;
  /** The event id it acknowledged last ('' for none). */
  acknowledged: string;
  /** Events kept for it that it has not acknowledged. */
  pending: number;
}

export type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

export interface Edge {
  /** The pipeline's relay port. */
  filter: RelayFilter;
  /** The subscriber an `Authorization: Bearer` header names; an answer (401) when none does. */
  authenticate(authorization: string | null): Subscriber | Answer;
  /** A stream for `subscriber`, resumed after `lastEventId` or what it acknowledged; an answer when refused. */
  open(subscriber: Subscriber, lastEventId: string | null): Response | Answer;
  /** `{"id":"<stream>-<seq>"}`: everything of the subscriber's through it is had. */
  acknowledge(subscriber: Subscriber, body: Uint8Array): Answer;
  status(): SubscriberStatus[];
  /** A reload: subscribers and limits for new streams (open ones follow filters; a removed subscriber's streams end). */
  configure(settings: EdgeSettings): void;
  /** Shutdown: every stream ends; new ones are refused. */
  close(): void;
}

export interface EdgeOptions {
  log: RelayLog;
  settings: EdgeSettings;
  clock: Clock;
  logger: Logger;
  reporter: EdgeReporter;
  retryAfterSeconds: number;
}

/**
 * @example
 * const edge = createEdge({ log: store.relay, settings, clock, logger, reporter, retryAfterSeconds: 5 });
 * const who = edge.authenticate(request.headers.get('authorization'));
 */
export function createEdge(options: EdgeOptions): Edge {
  const { log, clock } = options;
  let settings = options.settings;
  let byDigest = indexByDigest(settings.subscribers);
  let closing = false;
  const streams = new Map<string, Set<{ close(reason: StreamEnd): void }>>();
  // An event's JSON is the same for every subscriber: made once while the record lives.
  const jsonOf = new WeakMap<RelayRecord, string>();
  const json = (record: RelayRecord) => {
    let text = jsonOf.get(record);
    if (text === undefined) jsonOf.set(record, (text = encodeRelayEvent(record.event)));
    return text;
  };
  const current = (name: string) => settings.subscribers.find((subscriber) => subscriber.name === name);
  return {
    filter: relayFilter(() => settings.subscribers, settings.limits.maxEventBytes, () => clock.now()),
    authenticate: (authorization) => authenticate(byDigest, authorization, options.reporter),
    open(subscriber, lastEventId) {
      if (closing) return refused(options, 'shutting_down', 503, 'shutting down');
      const open = streams.get(subscriber.name) ?? new Set();
      if (open.size >= settings.limits.maxConnectionsPerSubscriber) return refused(options, 'too_many_streams', 429, `subscriber ${subscriber.name} has ${open.size} streams open already (relay.maxConnectionsPerSubscriber)`);
      const opening = openingOf(log, subscriber.name, lastEventId, settings.limits.heartbeatMs);
      const handle = openEventStream({
        log,
        subscriber: () => current(subscriber.name),
        name: subscriber.name,
        opening,
        limits: settings.limits,
        clock,
        json,
        delivered: (count) => options.reporter.delivered(subscriber.name, count),
        ended(reason) {
          open.delete(handle);
          options.reporter.ended(subscriber.name, reason);
        },
      });
      open.add(handle);
      streams.set(subscriber.name, open);
      options.reporter.connected(subscriber.name, opening.after > 0 ? eventId(log.stream(), opening.after) : '', opening.frames.some((message) => message.type === 'gap'));
      return new Response(handle.stream, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } });
    },
    acknowledge: (subscriber, body) => acknowledge(log, subscriber, body, options.reporter),
    status: () =>
      settings.subscribers.map((subscriber) => {
        const acknowledged = log.acknowledged(subscriber.name);
        return { name: subscriber.name, streams: streams.get(subscriber.name)?.size ?? 0, acknowledged: acknowledged > 0 ? eventId(log.stream(), acknowledged) : '', pending: log.pending(subscriber.name) };
      }),
    configure(next) {
      settings = next;
      byDigest = indexByDigest(next.subscribers);
      // A removed subscriber's streams end at their next pull; one that waits is woken now.
      for (const [name, open] of streams) if (!current(name)) for (const handle of [...open]) handle.close('removed');
    },
    close() {
      closing = true;
      for (const open of streams.values()) for (const handle of [...open]) handle.close('shutdown');
    },
  };
}

function refused(options: EdgeOptions, reason: Parameters<EdgeReporter['refused']>[0], status: number, error: string): Answer {
  options.reporter.refused(reason, error);
  return { status, body: { error }, headers: { 'retry-after': String(options.retryAfterSeconds) } };
}

/**
 * The subscriber whose credential this is: found by the SHA-256 of the credential (a lookup whose time says nothing
 * an attacker can steer towards a credential), then compared in constant time. One comparison per request, not one
 * per subscriber: with 100 agents acknowledging, comparing every credential was a fifth of the edge's CPU.
 */
function authenticate(byDigest: ReadonlyMap<string, Subscriber>, authorization: string | null, reporter: EdgeReporter): Subscriber | Answer {
  const match = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(authorization ?? '');
  if (!match) {
    const error = authorization === null ? 'missing Authorization: Bearer credential' : 'malformed Authorization: expected Bearer and a relay credential';
    reporter.refused('unauthorized', error);
    return { status: 401, body: { error } };
  }
  const found = byDigest.get(digestOf(match[1]!));
  if (found && safeEqual(match[1]!, found.credential)) return found;
  reporter.refused('unauthorized', 'unknown relay credential');
  return { status: 401, body: { error: 'the credential is no subscriber\'s (see relay.subscribers[].token and upstream.token)' } };
}

/**
 * Where a stream starts: after the later of the agent's `Last-Event-ID` (same stream only) and what it acknowledged
 * here. A gap when events after that are gone, or when the agent's id is of another stream or beyond the head.
 */
function openingOf(log: RelayLog, name: string, lastEventId: string | null, heartbeatMs: number): { frames: { id?: string; type: FrameType; data: string }[]; after: number } {
  const stream = log.stream();
  const given = parseEventId(lastEventId);
  let after = log.acknowledged(name);
  let reason: string | undefined;
  if (given && (given.stream !== stream || given.seq > log.head())) reason = 'the edge\'s store is not the one the agent last read (it was replaced or is store: memory and restarted)';
  else if (given) after = Math.max(after, given.seq);
  const first = log.first();
  if (after + 1 < first) reason ??= `events before ${eventId(stream, first)} are no longer kept (relay.retention)`;
  const hello: Hello = { subscriber: name, stream, after: after > 0 ? eventId(stream, after) : '', head: eventId(stream, log.head()), heartbeatMs };
  const frames: { id?: string; type: FrameType; data: string }[] = [{ type: 'hello', data: JSON.stringify(hello) }];
  if (reason !== undefined) {
    after = Math.max(after, first - 1);
    frames.push({ id: eventId(stream, after), type: 'gap', data: JSON.stringify({ reason }) });
  }
  return { frames, after };
}

const digestOf = (credential: string) => createHash('sha256').update(credential).digest('base64url');

/** Subscribers by the digest of their credential. */
function indexByDigest(subscribers: readonly Subscriber[]): Map<string, Subscriber> {
  return new Map(subscribers.map((subscriber) => [digestOf(subscriber.credential), subscriber]));
}

const MAX_ACK_BYTES = 1024;

function acknowledge(log: RelayLog, subscriber: Subscriber, body: Uint8Array, reporter: EdgeReporter): Answer {
  let id: unknown;
  try {
    id = body.byteLength <= MAX_ACK_BYTES ? (JSON.parse(new TextDecoder().decode(body)) as { id?: unknown })?.id : undefined;
  } catch {
    id = undefined;
  }
  const parsed = typeof id === 'string' ? parseEventId(id) : undefined;
  if (!parsed) {
    reporter.refused('bad_request', 'acknowledgement is not {"id":"<stream>-<seq>"}');
    return { status: 400, body: { error: 'expected {"id":"<event id>"}' } };
  }
  if (parsed.stream !== log.stream()) return { status: 409, body: { error: 'the event id is of another stream: reconnect' } };
  const count = log.acknowledge(subscriber.name, parsed.seq);
  if (count > 0) reporter.acknowledged(subscriber.name, count);
  return { status: 200, body: { acknowledged: id } };
}
