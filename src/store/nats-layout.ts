/**
 * What fluxgate keeps on NATS JetStream (`state.store: nats`), all named after `state.nats.name` so several
 * gateways can share one NATS:
 * - stream `<name>-accepted` (subject `<name>.accepted`, work queue): one message per accepted delivery, the commit
 *   point of its 202; `Nats-Msg-Id` drops a provider's redelivery to any replica within the dedupe window;
 * - bucket `<name>-work`: the unsettled work items, one key per object (or label query) and cluster;
 * - bucket `<name>-owners`: which replica is alive and which owns each partition of the objects (keys expire after
 *   `state.nats.lease` unless renewed);
 * - bucket `<name>-failures`: failures kept for a retry by hand;
 * - stream `<name>-log` (subject `<name>.log`): the delivery log every replica's page and API show;
 * - stream `<name>-relay` (subject `<name>.relay`) and bucket `<name>-relay-cursors`: a relay's events kept for its
 *   subscribers (`relay.retention`), and what each subscriber acknowledged (nats-relay.ts).
 * Created when missing, updated when their limits changed; R = `state.nats.replicas`.
 */
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConfig } from '../config/index.ts';

/** The stream's duplicate window: the journal's dedupe window (open-store.ts DEDUPE_WINDOW_MS). */
export interface LayoutLimits {
  dedupeWindowMs: number;
  /** state.retention.maxAge: delivery log entries older than this go. */
  logMaxAgeMs: number;
  /** Log messages kept at most (each a batch of records and effects). */
  logMaxMessages: number;
  /** relay.retention: events kept at most, and for how long. */
  relayMaxEvents: number;
  relayMaxAgeMs: number;
}

export interface NatsLayout {
  acceptedStream: string;
  acceptedSubject: string;
  logStream: string;
  logSubject: string;
  /** The durable consumer every replica pulls accepted deliveries from, to fold them into the work bucket. */
  materializer: string;
  /** The stream behind the work bucket (its size is the store's). */
  workStream: string;
  failuresBucket: string;
  relayStream: string;
  relaySubject: string;
  work: KV;
  owners: KV;
  failures: KV;
  relayCursors: KV;
}

const NANOS_PER_MS = 1_000_000;
/** Accepted deliveries not yet folded (a backlog while every replica is down): past this, webhooks get 503. */
const ACCEPTED_MAX_BYTES = 256 * 1024 * 1024;
const LOG_MAX_BYTES = 64 * 1024 * 1024;
/** A message (and a work item) at most: below NATS's default max_payload of 1 MiB. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** How long a replica has to fold an accepted delivery before another may (it extends this while it works). */
export const MATERIALIZE_ACK_WAIT_MS = 30_000;

/** The names `state.nats.name` gives, for docs and the status page. */
export function layoutNames(name: string) {
  return {
    acceptedStream: `${name}-accepted`,
    acceptedSubject: `${name}.accepted`,
    logStream: `${name}-log`,
    logSubject: `${name}.log`,
    materializer: `${name}-materializer`,
    work: `${name}-work`,
    owners: `${name}-owners`,
    failures: `${name}-failures`,
    workStream: `KV_${name}-work`,
    failuresBucket: `${name}-failures`,
    relayStream: `${name}-relay`,
    relaySubject: `${name}.relay`,
    relayCursors: `${name}-relay-cursors`,
  };
}

/** Creates the stream when missing; updates it when fluxgate's limits for it changed (a config change, an upgrade). */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    const existing = await jsm.streams.info(config.name);
    const changed = Object.entries(config).some(([key, value]) => JSON.stringify((existing.config as unknown as Record<string, unknown>)[key]) !== JSON.stringify(value));
    if (changed) await jsm.streams.update(config.name, config);
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message)) throw error;
    await jsm.streams.add(config);
  }
}

/**
 * @example
 * const layout = await ensureLayout(js, jsm, config.state.nats, { dedupeWindowMs: 660_000, logMaxAgeMs, logMaxMessages: 1000 });
 */
export async function ensureLayout(js: JetStreamClient, jsm: JetStreamManager, nats: NatsConfig, limits: LayoutLimits): Promise<NatsLayout> {
  const names = layoutNames(nats.name);
  const replicas = nats.replicas;
  await ensureStream(jsm, {
    name: names.acceptedStream,
    subjects: [names.acceptedSubject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: limits.dedupeWindowMs * NANOS_PER_MS,
    max_bytes: ACCEPTED_MAX_BYTES,
    max_msg_size: MAX_MESSAGE_BYTES,
    discard: DiscardPolicy.New,
  });
  await ensureStream(jsm, {
    name: names.logStream,
    subjects: [names.logSubject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: limits.logMaxAgeMs * NANOS_PER_MS,
    max_msgs: limits.logMaxMessages,
    max_bytes: LOG_MAX_BYTES,
    discard: DiscardPolicy.Old,
  });
  try {
    await jsm.consumers.info(names.acceptedStream, names.materializer);
  } catch (error) {
    if (!/consumer not found/i.test((error as Error).message)) throw error;
    await jsm.consumers.add(names.acceptedStream, {
      durable_name: names.materializer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: MATERIALIZE_ACK_WAIT_MS * NANOS_PER_MS,
      max_ack_pending: 1000,
    });
  }
  const kvm = new Kvm(js);
  const work = await kvm.create(names.work, { history: 1, replicas, maxValueSize: MAX_MESSAGE_BYTES });
  const owners = await kvm.create(names.owners, { history: 1, replicas, ttl: nats.lease });
  // An existing bucket is bound as it is: a changed lease is applied to it here.
  const ownersStream = `KV_${names.owners}`;
  const ownersInfo = await jsm.streams.info(ownersStream);
  if (ownersInfo.config.max_age !== nats.lease * NANOS_PER_MS) await jsm.streams.update(ownersStream, { max_age: nats.lease * NANOS_PER_MS });
  const failures = await kvm.create(names.failures, { history: 1, replicas, maxValueSize: MAX_MESSAGE_BYTES });
  await ensureStream(jsm, {
    name: names.relayStream,
    subjects: [names.relaySubject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: limits.dedupeWindowMs * NANOS_PER_MS,
    max_age: limits.relayMaxAgeMs * NANOS_PER_MS,
    max_msgs: limits.relayMaxEvents,
    max_msg_size: MAX_MESSAGE_BYTES,
    discard: DiscardPolicy.Old,
  });
  const relayCursors = await kvm.create(names.relayCursors, { history: 1, replicas });
  return { ...names, work, owners, failures, relayCursors };
}
