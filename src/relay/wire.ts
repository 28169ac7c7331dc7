/**
 * The relay's wire format (docs/private-clusters.md § Protocol): Server-Sent Events whose `data` is two lines, the
 * signature and the JSON. Event ids are `<stream>-<seq>`: the seq of the edge's store and the identity of that
 * store's sequence, so an id from a store that was replaced (or a `store: memory` edge that restarted) is never
 * taken for a place in this one.
 *
 * Types: `hello` (first, no id: who the stream is for), `event` (a relayed event), `gap` (events the agent had not
 * acknowledged are gone: reconcile everything), `sync` (nothing more for it up to this id; acknowledged like an event).
 */
import { Type as T, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { RelayEvent } from '../pipeline/index.ts';
import { signEvent } from './credentials.ts';

export const EVENTS_PATH = '/relay/v1/events';
export const ACK_PATH = '/relay/v1/ack';

export type FrameType = 'hello' | 'event' | 'gap' | 'sync';

/** `<stream>-<seq>`, both in base 36 / decimal digits: short, and never more than this. */
const ID = /^([0-9a-z]{1,12})-([0-9]{1,15})$/;

/** @example eventId('lqz3k2', 42) // 'lqz3k2-42' */
export function eventId(stream: string, seq: number): string {
  return `${stream}-${seq}`;
}

/** @example parseEventId('lqz3k2-42') // { stream: 'lqz3k2', seq: 42 }; parseEventId('x') // undefined */
export function parseEventId(id: string | null | undefined): { stream: string; seq: number } | undefined {
  const match = id ? ID.exec(id) : null;
  return match ? { stream: match[1]!, seq: Number(match[2]) } : undefined;
}

/**
 * One SSE frame, signed. JSON has no raw newline, so `data` is exactly two lines: the signature, then the JSON.
 * @example frame(key, { id: 'lqz3k2-42', type: 'event', data: '{"provider":"github",…}' }) // 'id: lqz3k2-42\nevent: event\ndata: v1,…\ndata: {…}\n\n'
 */
export function frame(key: Buffer, message: { id?: string; type: FrameType; data: string }): string {
  const signature = signEvent(key, message.id ?? '', message.type, message.data);
  return `${message.id !== undefined ? `id: ${message.id}\n` : ''}event: ${message.type}\ndata: ${signature}\ndata: ${message.data}\n\n`;
}

/** A relayed event as the agent reads it: the edge's provider, the delivery, and the normalized event's fields. */
const WireEvent = T.Object({
  provider: T.String({ minLength: 1 }),
  type: T.String({ minLength: 1 }),
  deliveryId: T.Optional(T.String()),
  receivedAt: T.String({ minLength: 1 }),
  event: T.String(),
  repositories: T.Array(T.String()),
  ref: T.Optional(T.String()),
  branch: T.Optional(T.String()),
  tag: T.Optional(T.String()),
  commit: T.Optional(T.String()),
  defaultBranch: T.Optional(T.String()),
  changedPaths: T.Optional(T.Array(T.String())),
  deleted: T.Optional(T.Boolean()),
  image: T.Optional(T.Object({ name: T.String({ minLength: 1 }), tag: T.Optional(T.String()), digest: T.Optional(T.String()) })),
});
type WireEvent = Static<typeof WireEvent>;

/** The JSON of an `event` frame. */
export function encodeRelayEvent(relayed: RelayEvent): string {
  const wire: WireEvent = {
    provider: relayed.provider,
    type: relayed.type,
    ...(relayed.deliveryId !== undefined ? { deliveryId: relayed.deliveryId } : {}),
    receivedAt: new Date(relayed.receivedAt).toISOString(),
    ...relayed.event,
  };
  return JSON.stringify(wire);
}

/** An `event` frame's JSON read back; undefined when it is not one (unknown extra fields are allowed: a newer edge). */
export function decodeRelayEvent(json: string): RelayEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Value.Check(WireEvent, parsed)) return undefined;
  const receivedAt = Date.parse(parsed.receivedAt);
  if (!Number.isFinite(receivedAt)) return undefined;
  const { provider, type, deliveryId, receivedAt: _at, ...event } = parsed;
  const known = { event: event.event, repositories: event.repositories, ...pick(event, ['ref', 'branch', 'tag', 'commit', 'defaultBranch', 'changedPaths', 'deleted', 'image']) };
  return { provider, type, ...(deliveryId !== undefined ? { deliveryId } : {}), receivedAt, event: known };
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) picked[key] = value[key];
  return picked;
}

/** The JSON of a `hello` frame. */
export interface Hello {
  subscriber: string;
  stream: string;
  /** The id the stream resumes after ('' from the start). */
  after: string;
  /** The edge's last event id. */
  head: string;
  /** How often the edge sends a `sync` when it has nothing else (ms): a stream silent for much longer is dead. */
  heartbeatMs: number;
}

export function decodeHello(json: string): Hello | undefined {
  try {
    const parsed = JSON.parse(json) as Hello;
    return typeof parsed?.subscriber === 'string' && typeof parsed.stream === 'string' && typeof parsed.heartbeatMs === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
