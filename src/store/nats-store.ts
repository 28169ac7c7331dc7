/**
 * The store on NATS JetStream (`state.store: nats`): several replicas behind one Service share the journal, the
 * delivery ids, the failures and the delivery log. Every replica accepts webhooks (nats-journal.ts), folds accepted
 * deliveries into the shared work (nats-materializer.ts), and reconciles the objects of the partitions it owns
 * (nats-ownership.ts, nats-feeder.ts); a replica that dies has its partitions taken over within
 * `state.nats.lease` + lease/3. Layout and names: nats-layout.ts; the setup users run: docs/ha.md.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DeliveryRecord } from './delivery-log.ts';
import type { DeliveryDeduper } from './dedupe.ts';
import type { AcceptedMessage } from './nats-accepted.ts';
import { DEDUPE_WINDOW_MS, DEFAULT_RELAY_RETENTION, type Store, type StoreOptions } from './store.ts';
import { connectNats, NATS_TIMEOUT_MS, shownServers } from './nats-connect.ts';
import { createFeeder, type Feeder } from './nats-feeder.ts';
import { watchFailures } from './nats-failures.ts';
import { createNatsJournal, type NatsJournal } from './nats-journal.ts';
import { openNatsRelay, type NatsRelay } from './nats-relay.ts';
import { ensureLayout, type NatsLayout } from './nats-layout.ts';
import { startMaterializer } from './nats-materializer.ts';
import { createOwnership, type Ownership } from './nats-ownership.ts';
import { partitionReplica } from './nats-partitions.ts';
import { sharedDeliveryLog } from './nats-delivery-log.ts';
import { queueStuck, startUpkeep } from './nats-upkeep.ts';
import { watchWork } from './nats-work.ts';

/** Delete markers of settled items are purged once this old (a watcher that was away a while still sees them). */
const MARKER_AGE_MS = 30 * 60_000;
/** The delivery log stream keeps this many batches per record kept on the page (and 1,000 at least). */
const LOG_MESSAGES_PER_RECORD = 10;

/** This process among the replicas: the host (the pod's name) and a random part, new at every start. */
export function replicaId(host = hostname()): string {
  const name = host.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'fluxgate';
  return `${name}-${randomBytes(3).toString('hex')}`;
}

async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs / 1000} s`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The record of an accepted delivery as its message tells it: what every replica shows when the replica that
 * answered it died before its own record (with its targets and provider type) reached the log.
 */
function acceptedRecord(message: AcceptedMessage, seq: number): Omit<DeliveryRecord, 'objects' | 'state'> {
  const cause = message.cause;
  const provider = cause?.provider ?? 'unknown';
  const deliveryId = message.deliveryId ?? cause?.deliveryId;
  return {
    ticket: seq,
    ...(deliveryId !== undefined ? { deliveryId } : {}),
    provider,
    type: provider,
    ...(cause?.event !== undefined ? { event: cause.event } : {}),
    receivedAt: new Date(message.acceptedAt).toISOString(),
    status: 202,
    outcome: 'accepted',
    ...(cause?.repository !== undefined ? { repository: cause.repository } : {}),
    ...(cause?.ref !== undefined ? { ref: cause.ref } : {}),
    ...(cause?.commit !== undefined ? { commit: cause.commit } : {}),
    targets: [],
  };
}

/** Creating the streams and buckets waits for a JetStream cluster that is still electing its leaders (all pods starting together). */
async function ensureLayoutPatiently<T>(log: StoreOptions['log'], create: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await create();
    } catch (error) {
      if (performance.now() > until) throw new Error(`state.nats: JetStream did not take fluxgate's streams and buckets: ${(error as Error).message}`);
      if (attempt === 1) log.warn('JetStream is not ready for fluxgate\'s streams and buckets yet; trying again', { error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 250 * attempt)));
    }
  }
}

/** Follows the connection: false while the client reconnects; a reconnect asks the journal to check. */
function followConnection(nc: NatsConnection, changed: (connected: boolean) => void): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') changed(false);
      else if (status.type === 'reconnect') changed(true);
    }
  })();
}

/**
 * This replica's view of the shared work: the work and failure buckets watched into memory (read whole before it
 * serves), the feeder that hands reconcile what the owned partitions owe, and the leases on those partitions.
 */
async function shareWork(layout: NatsLayout, options: StoreOptions, hooks: { replica: string; lease: number; failed(operation: string, error: string): void; report(): void }) {
  const { clock, log } = options;
  let feeder: Feeder | undefined;
  let ownership: Ownership | undefined;
  const work = watchWork(layout.work, {
    clusters: options.clusters,
    clock,
    failed: hooks.failed,
    changed: (key, entry) => {
      feeder?.changed(key, entry);
      hooks.report();
    },
    unreadable: (key, error) => log.warn('a work item in NATS could not be read and is left alone', { key, error }),
  });
  const failures = watchFailures(layout.failures, { max: options.state.retention.failures, clock, changed: hooks.report, failed: hooks.failed });
  await withTimeout('NATS (reading the owed work)', Promise.all([work.ready, failures.ready]), 60_000);
  const liveFeeder = createFeeder({ work: () => work, owns: (partition) => ownership?.owns(partition) ?? false, feed: options.feed, maxFilters: Math.max(1000, options.maxPending) });
  feeder = liveFeeder;
  const reportOwned = () => options.replica?.owned(ownership?.owned().length ?? 0, liveFeeder.ownedItems());
  ownership = createOwnership({
    kv: layout.owners,
    replica: hooks.replica,
    leaseMs: hooks.lease,
    clock,
    extraPartitions: () => work.partitions().filter((partition) => partitionReplica(partition) !== undefined),
    busy: (partition) => liveFeeder.busy(partition),
    acquired: (partition) => {
      options.replica?.acquired();
      liveFeeder.acquired(partition);
      reportOwned();
    },
    lost: (partition) => {
      liveFeeder.lost(partition);
      reportOwned();
    },
    failed: hooks.failed,
  });
  return { work, failures, feeder: liveFeeder, ownership, reportOwned };
}

/**
 * @example
 * const store = await openNatsStore({ state: { store: 'nats', nats: { servers: ['nats://nats:4222'], … }, … }, … }, dedupe);
 */
export async function openNatsStore(options: StoreOptions, dedupe: DeliveryDeduper): Promise<Store> {
  const nats = options.state.nats;
  if (nats === undefined) throw new Error('state.store: nats needs state.nats: { servers: [nats://…] }');
  const replica = replicaId();
  const nc = await connectNats(nats, { configDir: options.configDir, replica });
  try {
    return await openOnConnection({ nc, nats, replica, options, dedupe });
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
}

interface Opening {
  nc: NatsConnection;
  nats: NonNullable<StoreOptions['state']['nats']>;
  replica: string;
  options: StoreOptions;
  dedupe: DeliveryDeduper;
}

/** The streams and buckets, this replica's share of the work, the shared delivery log, the materializer and the journal. */
async function openOnConnection({ nc, nats, replica, options, dedupe }: Opening): Promise<Store> {
  const { state, clock, log } = options;
  const failed = (operation: string, error: string) => {
    options.replica?.failed(operation);
    log.debug('a state store operation failed; it is tried again', { operation, error });
  };
  let journal: NatsJournal | undefined;
  const link = { connected: true };
  const js = jetstream(nc, { timeout: NATS_TIMEOUT_MS });
  const jsm = await jetstreamManager(nc, { timeout: NATS_TIMEOUT_MS });
  const retention = options.relayRetention ?? DEFAULT_RELAY_RETENTION;
  const limits = { dedupeWindowMs: DEDUPE_WINDOW_MS, logMaxAgeMs: state.retention.maxAge, logMaxMessages: Math.max(1000, options.recentDeliveries * LOG_MESSAGES_PER_RECORD), relayMaxEvents: retention.maxEvents, relayMaxAgeMs: retention.maxAgeMs };
  const layout = await ensureLayoutPatiently(log, () => ensureLayout(js, jsm, nats, limits));
  const share = await shareWork(layout, options, { replica, lease: nats.lease, failed, report: () => journal?.report() });
  const { work, failures, ownership } = share;
  // Partitions are taken before serving (reconcile starts with what they owe when serve calls replay()).
  await ownership.tick();
  ownership.start();
  const shared = sharedDeliveryLog({ nc, js, stream: layout.logStream, subject: layout.logSubject, replica, capacity: options.recentDeliveries, clock, failed: (error) => failed('log', error) });
  await shared.start();
  const relay = await withTimeout('NATS (reading the relay stream)', openNatsRelay({ js, jsm, stream: layout.relayStream, subject: layout.relaySubject, cursors: layout.relayCursors, retention, clock, timeoutMs: NATS_TIMEOUT_MS, failed }), 60_000);
  const materializer = startMaterializer({
    js,
    stream: layout.acceptedStream,
    consumer: layout.materializer,
    kv: layout.work,
    work,
    timeoutMs: NATS_TIMEOUT_MS,
    clock,
    failed,
    folded: (message, seq) => shared.keep(acceptedRecord(message, seq)),
    relay: (message, seq) => relay.publish(message.relay ?? [], seq),
    unreadable: (seq, error) => log.warn('a message of the accepted stream could not be read and is dropped', { seq, error }),
  });
  const liveJournal = natsJournal({ options, dedupe, js, jsm, layout, replica, share, link, failed });
  journal = liveJournal;
  // After the connection came back, every watch and consumer starts again from where it was: the client's own
  // recovery can leave one silent after all servers went away.
  const followers = [work.watch, failures.watch, materializer, shared, relay];
  followConnection(nc, (now) => {
    link.connected = now;
    if (now) {
      liveJournal.check();
      for (const follower of followers) follower.restart();
    }
  });
  const upkeep = natsUpkeep({ layout, jsm, share, shared, materializer, relay, journal: liveJournal, link, options, failed });
  log.info('state', { store: 'nats', servers: shownServers(nats.servers), name: nats.name, replicas: nats.replicas, replica, owed: work.counts.total(), failures: failures.size(), partitions: ownership.owned().length, live: ownership.live().length });
  return {
    kind: 'nats',
    describe: `nats: ${shownServers(nats.servers).join(', ')} (${nats.name}, R${nats.replicas}), replica ${replica}`,
    durable: true,
    journal: liveJournal,
    deliveries: shared.log,
    relay: relay.log,
    sizeBytes: upkeep.sizeBytes,
    async close() {
      upkeep.stop();
      await materializer.stop();
      await shared.stop();
      relay.stop();
      // Given back at once: the other replicas take the partitions over at their next round, not a lease later.
      await ownership.close();
      work.stop();
      failures.stop();
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** This replica's journal on the shared work: accepting publishes to the accepted stream, settling writes the work bucket. */
function natsJournal(parts: {
  options: StoreOptions;
  dedupe: DeliveryDeduper;
  js: ReturnType<typeof jetstream>;
  jsm: Awaited<ReturnType<typeof jetstreamManager>>;
  layout: NatsLayout;
  replica: string;
  share: Awaited<ReturnType<typeof shareWork>>;
  link: { connected: boolean };
  failed(operation: string, error: string): void;
}): NatsJournal {
  const { options, js, jsm, layout, share } = parts;
  return createNatsJournal({
    clusters: options.clusters,
    maxPending: options.maxPending,
    dedupe: parts.dedupe,
    clock: options.clock,
    requestedAt: options.requestedAt,
    ...(options.refused ? { refused: options.refused } : {}),
    reporter: options.reporter,
    js,
    subject: layout.acceptedSubject,
    replica: parts.replica,
    work: share.work,
    kv: layout.work,
    failures: share.failures,
    feeder: share.feeder,
    timeoutMs: NATS_TIMEOUT_MS,
    connected: () => parts.link.connected,
    ping: async () => void (await jsm.streams.info(layout.acceptedStream)),
    failed: parts.failed,
  });
}

/**
 * The replica's upkeep: each watch and consumer followed (restarted when it falls silent), the sizes, the owned
 * partitions reported, the journal checked, and retention.
 */
function natsUpkeep(parts: {
  layout: NatsLayout;
  jsm: Awaited<ReturnType<typeof jetstreamManager>>;
  share: Awaited<ReturnType<typeof shareWork>>;
  shared: ReturnType<typeof sharedDeliveryLog>;
  materializer: ReturnType<typeof startMaterializer>;
  relay: NatsRelay;
  journal: NatsJournal;
  link: { connected: boolean };
  options: StoreOptions;
  failed(operation: string, error: string): void;
}) {
  const { layout, share, shared, materializer, relay, journal, options, failed } = parts;
  const { work, failures } = share;
  return startUpkeep({
    clock: options.clock,
    jsm: parts.jsm,
    followers: [
      { stream: layout.workStream, position: () => work.watch.revision(), restart: () => work.watch.restart() },
      { stream: `KV_${layout.failuresBucket}`, position: () => failures.watch.revision(), restart: () => failures.watch.restart() },
      { stream: layout.logStream, position: () => shared.position(), restart: () => shared.restart() },
      { stream: layout.relayStream, position: () => relay.position(), restart: () => relay.restart() },
      { stream: layout.acceptedStream, stuck: queueStuck(), restart: () => materializer.restart() },
    ],
    sized: [layout.acceptedStream, layout.logStream, layout.workStream, layout.relayStream],
    connected: () => parts.link.connected,
    each() {
      share.reportOwned();
      // Also when healthy: settles NATS could not take earlier are written again by a check that succeeds.
      journal.check();
    },
    retention(now) {
      journal.expireFailures(now - options.state.retention.maxAge);
      relay.maintain(now);
      // KV's type leaves out the bucket's purgeDeletes (@nats-io/kv 3.4).
      void (layout.work as unknown as { purgeDeletes(olderMillis: number): Promise<unknown> }).purgeDeletes(MARKER_AGE_MS).catch((error: Error) => failed('retention', error.message));
    },
  });
}
