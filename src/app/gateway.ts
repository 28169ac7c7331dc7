/**
 * The composition root: loads the config, connects to Kubernetes, wires pipeline, reconcile and observers,
 * and serves HTTP. Nothing else in fluxgate creates long-lived state.
 */
import { dirname } from 'node:path';
import { createHttpApps, fitRequestCap, listen, REFRESH_SECONDS, renderStatusPage, type Readiness } from '../http/index.ts';
import { createJournalReporter, createMetrics, createReplicaReporter, createUnknownRoutes, createWebhookReporter, type Metrics, type UnknownRoutes } from '../observe/index.ts';
import { createLogger, createRequestedAtClock, systemClock, type Clock, type Invocation, type Logger } from '../core/index.ts';
import { addressBlocks, createRouteTable, type RouteTable } from '../pipeline/index.ts';
import type { Reconciler } from '../reconcile/index.ts';
import { openStore, type Store } from '../store/index.ts';
import type { BuiltinProvider } from '../provider-kit/index.ts';
import type { Config } from '../config/index.ts';
import { startClusters, type Clusters, type ClustersOptions } from './clusters.ts';
import { commitStatusing, type CommitStatusing } from './commit-statusing.ts';
import { loadConfigFile, type LoadedConfig } from './load-config.ts';
import { createReloader, type ReloadStatus } from './reload.ts';
import { createServedConfig, type ServedConfig } from './served-config.ts';
import type { Agent, Edge } from '../relay/index.ts';
import { edgeSettings, startAgent, startEdge } from './relay-wiring.ts';

export interface GatewayOptions {
  configPath: string;
  /** The providers compiled into fluxgate (plugins/index.ts). */
  builtins: readonly BuiltinProvider[];
  version: string;
  env?: Record<string, string | undefined>;
  /** `serve --dry-run`: nothing is sent to Kubernetes, whatever `kubernetes.mode` says. */
  dryRun?: boolean;
  log?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Overrides server.address (tests listen on port 0). */
  address?: string;
  /** Overrides server.adminAddress (tests listen on port 0). */
  adminAddress?: string;
  /** Reload when the config or a file it names changes (default true; SIGHUP reloads either way). */
  watchConfig?: boolean;
  /** Discovery's informer tuning (tests: short re-checks; benchmarks: page size). */
  informer?: ClustersOptions['informer'];
  /** How the user ran fluxgate, for messages that name a command (default: the installed `fluxgate`). */
  invocation?: Invocation;
}

export interface Gateway {
  /** The webhook listener: `/hook/*` and `/healthz`. */
  url: string;
  port: number;
  /** The admin listener: the status page, `/api/*`, `/metrics` and the probes. */
  adminUrl: string;
  /** Answers a webhook request without the socket (benchmarks and in-process checks). */
  handle(request: Request): Promise<Response>;
  /** Answers an admin request without the socket (metrics after shutdown has closed the listeners). */
  handleAdmin(request: Request): Promise<Response>;
  /** Loads the config again and applies it, or keeps the running one when the new one has problems. */
  reload(trigger: string): Promise<ReloadStatus>;
  /** The config being served (the latest one a reload accepted). */
  config(): Config;
  /** Stops accepting, flushes pending reconcile requests, waits (bounded) for patches, closes the server. */
  shutdown(): Promise<{ unfinished: number }>;
}

/** Quiet time after the last file event before a reload: an editor's save or a volume's swap is several events. */
const reloadSettleMs = 250;
/** Requests to unknown paths are logged at most once per this window (with their count). */
const unknownRouteLogWindowMs = 10_000;

const optionalSize = (sizeBytes: number | undefined) => (sizeBytes === undefined ? {} : { sizeBytes });

/** A provider with a previousSecret has its counter from the start (at 0), so a flat line is visible as one. */
function showRotations(loaded: LoadedConfig, metrics: Metrics): void {
  for (const provider of loaded.config.providers) {
    if (loaded.providers.get(provider.name)?.previousKey !== undefined) metrics.webhookPreviousSecret.inc({ provider: provider.name, type: provider.type }, 0);
  }
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? createLogger();
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  // The same loader as `validate`: secrets, TLS files and the Kubernetes target are checked before anything starts.
  const loaded = await loadConfigFile({ path: options.configPath, builtins: options.builtins, env, dryRun: options.dryRun, invocation: options.invocation });
  const { config } = loaded;
  const metrics = createMetrics(options.version, undefined, { clustered: loaded.clusters !== undefined });
  const statusing = await commitStatusing({ loaded, configPath: options.configPath, env, metrics, log, clock, ...(options.random ? { random: options.random } : {}) });
  const { store, clusters } = await openStoreAndClusters({ options, loaded, env, metrics, log, clock, statusing });
  // Config-file providers first: a path both serve stays the config's.
  const routes = createRouteTable(['config', 'receivers']);
  const served = createServedConfig({ initial: loaded, routes, primary: clusters.primary, clock, log });
  await served.apply(loaded);
  const edge = config.relay ? startEdge({ loaded, log: store.relay, metrics, logger: log, clock }) : undefined;
  showRotations(loaded, metrics);
  if (!clusters.dryRun) {
    // Targets are shared between providers: each selector once.
    const selectors = new Map(routes.all().flatMap((provider) => provider.targets.all.flatMap((target) => target.selectors)).map((selector) => [selector.key, selector]));
    clusters.checkPermissions([...selectors.values()]);
  }
  const parts: Parts = {
    options, config, log, clock, metrics, store, clusters, routes, served, statusing,
    gate: { accepting: true },
    ...(edge ? { edge } : {}),
    unknownRoutes: createUnknownRoutes({ metrics, log, clock, windowMs: unknownRouteLogWindowMs }),
    reloadStatus: () => reloader.status(),
  };
  const apps = gatewayApps(parts);
  const server = listen({ role: 'server.address', address: options.address ?? config.server.address, tls: loaded.tls, idleTimeoutMs: config.server.idleTimeout, handle: apps.webhook.handle });
  // The admin surface speaks plain HTTP: it listens on loopback unless opened on purpose (e.g. for Prometheus in a pod).
  let admin: Listener;
  try {
    admin = listen({ role: 'server.adminAddress', address: options.adminAddress ?? config.server.adminAddress, idleTimeoutMs: config.server.idleTimeout, handle: apps.admin.handle });
  } catch (error) {
    await server.stop();
    await clusters.stop();
    await store.close();
    throw error;
  }
  const reloader = createReloader(options.configPath, {
    initial: loaded,
    load: (plugins) => loadConfigFile({ path: options.configPath, builtins: options.builtins, env, dryRun: options.dryRun, plugins, invocation: options.invocation }),
    async apply(next) {
      await served.apply(next);
      statusing?.reload(next);
      if (edge && next.config.relay) edge.configure(edgeSettings(next));
      showRotations(next, metrics);
    },
    counted: (outcome) => metrics.configReloads.inc({ outcome }),
    clock,
    log,
    watch: options.watchConfig ?? true,
    settleMs: reloadSettleMs,
  });
  log.info('fluxgate listening', { address: server.address, admin: admin.address, providers: routes.all().map((provider) => provider.name), targets: config.targets.length, tls: Boolean(loaded.tls) });
  await served.startReceivers();
  if (config.upstream) parts.agent = startAgent({ loaded, current: () => served.current(), journal: store.journal, ...(clusters.discovery ? { discovery: clusters.discovery } : {}), deliveries: store.deliveries, accepting: () => parts.gate.accepting, ready: async () => (await readiness(parts)).ready, metrics, logger: log, clock, ...(options.random ? { random: options.random } : {}) });
  parts.agent?.start();

  let stopping: Promise<{ unfinished: number }> | undefined;
  return {
    url: server.url,
    port: server.port,
    adminUrl: admin.url,
    handle: (request) => apps.webhook.handle(request),
    handleAdmin: (request) => apps.admin.handle(request),
    reload: (trigger) => reloader.reload(trigger),
    config: () => served.current().config,
    shutdown() {
      stopping ??= (async () => {
        parts.gate.accepting = false;
        reloader.stop();
        return shutdownGateway(parts, [server, admin]);
      })();
      return stopping;
    },
  };
}

/** The gateway's long-lived parts, wired once at start. */
interface Parts {
  options: GatewayOptions;
  /** As read at start-up (the served config may be newer: `served`). */
  config: Config;
  log: Logger;
  clock: Clock;
  metrics: Metrics;
  store: Store;
  clusters: Clusters;
  routes: RouteTable;
  served: ServedConfig;
  /** Following's commit statuses, when on. */
  statusing?: CommitStatusing;
  /** False once shutdown starts: webhooks are answered 503. */
  gate: { accepting: boolean };
  unknownRoutes: UnknownRoutes;
  reloadStatus(): ReloadStatus;
  /** A relay's edge (`relay:`), and an agent's connection to its edge (`upstream:`). */
  edge?: Edge;
  agent?: Agent;
}

type Apps = ReturnType<typeof createHttpApps>;

/**
 * Opens the store, then connects the clusters. The journal feeds reconcile, and reconcile settles with the journal:
 * the fleet is bound once the clusters are up. What the journal owed when the last process stopped (or was
 * killed) is reconciled again before serving.
 */
async function openStoreAndClusters(start: { options: GatewayOptions; loaded: LoadedConfig; env: Record<string, string | undefined>; metrics: Metrics; log: Logger; clock: Clock; statusing?: CommitStatusing }): Promise<{ store: Store; clusters: Clusters }> {
  const { options, loaded, metrics, log, clock } = start;
  const { config } = loaded;
  // One token source for the process: requestedAt values never repeat, whichever cluster they go to.
  const requestedAt = createRequestedAtClock();
  let fleet: Reconciler | undefined;
  let refusedBy: Parameters<typeof openStore>[0]['refused'];
  const store = await openStore({
    state: config.state,
    configDir: dirname(options.configPath),
    env: start.env,
    clusters: loaded.clusters?.map((cluster) => cluster.name) ?? [undefined],
    maxPending: config.reconcile.maxPending,
    recentDeliveries: config.admin.recentDeliveries,
    requestedAt,
    clock,
    log,
    reporter: createJournalReporter(metrics, log, clock),
    feed: (items) => fleet!.submit(items),
    refused: (cluster, ticket, selectors) => refusedBy?.(cluster, ticket, selectors),
    movedAside: () => metrics.storeMovedAside.inc(),
    replica: createReplicaReporter(metrics),
    ...(config.relay ? { relayRetention: { maxEvents: config.relay.retention.maxEvents, maxAgeMs: config.relay.retention.maxAge } } : {}),
  });
  // Per cluster: connection, queue, dispatcher, reconciler, Events; behind one fleet; discovery in each (clusters.ts).
  let clusters: Clusters;
  try {
    const statuses = start.statusing ? { statuses: start.statusing.statuses } : {};
    clusters = await startClusters({ config, targets: loaded.clusters ?? [{ kube: loaded.kube }], metrics, log, deliveries: store.deliveries, ledger: store.journal, requestedAt, clock, random: options.random, informer: options.informer, ...statuses });
  } catch (error) {
    await store.close();
    throw error;
  }
  fleet = clusters.reconciler;
  refusedBy = clusters.refused;
  const replayed = store.journal.replay();
  metrics.storeReplayed.set(replayed);
  if (replayed > 0) log.info('reconciling what was accepted before the restart and not yet patched', { items: replayed });
  metrics.gaugeOf('fluxgate_store_size_bytes', 'Bytes the state store takes on disk (sqlite).', () => store.sizeBytes() ?? 0);
  metrics.gaugeOf('fluxgate_store_healthy', '1 when the state store takes writes, 0 when webhooks are answered 503 for it.', () => (store.journal.health().ok ? 1 : 0));
  return { store, clusters };
}

/** The webhook and admin apps over the gateway's parts. */
function gatewayApps(parts: Parts): Apps {
  const { options, config, log, clock, metrics, store, clusters, routes, served, gate, unknownRoutes } = parts;
  const deliveries = store.deliveries;
  const startedAt = new Date(clock.now()).toISOString();
  return createHttpApps({
    routes,
    ...(config.server.trustedProxies ? { trustedProxies: addressBlocks(config.server.trustedProxies) } : {}),
    webhook: {
      journal: store.journal,
      accepting: () => gate.accepting,
      reporter: createWebhookReporter(metrics, log, deliveries, () => clock.now()),
      now: () => clock.now(),
      retryAfterSeconds: 5,
      ...(clusters.discovery ? { discover: clusters.discovery.find } : {}),
      ...(parts.edge ? { relay: parts.edge.filter } : {}),
    },
    ...(parts.edge ? { relay: parts.edge } : {}),
    limits: { ...config.server, maxConcurrentRequests: fitRequestCap(config.server.maxConcurrentRequests, log) },
    timers: clock,
    metrics,
    log,
    deliveries,
    accepting: () => gate.accepting,
    async readiness() {
      const ready = await readiness(parts);
      return parts.agent ? { ...ready, upstream: upstreamReadiness(parts.agent) } : ready;
    },
    statusPage: (refresh) => {
      const receivers = served.receivers();
      return renderStatusPage({
        version: options.version,
        kubernetes: clusters.describe,
        dryRun: clusters.dryRun,
        config: served.current().config,
        providers: routes.all(),
        deliveries: deliveries.recent(),
        startedAt,
        reload: parts.reloadStatus(),
        problems: [...clusters.problems(), ...(parts.statusing?.problems() ?? [])],
        unknownHooks: unknownRoutes.summary(),
        ...(refresh ? { refreshSeconds: REFRESH_SECONDS } : {}),
        ...(receivers ? { receivers: { list: receivers.list(), problem: receivers.problem() } } : {}),
        state: { describe: store.describe, durable: store.durable, health: store.journal.health(), owed: store.journal.pending(), failures: store.journal.failures(), ...optionalSize(store.sizeBytes()) },
        ...(parts.edge || parts.agent ? { relay: { ...(parts.edge ? { subscribers: parts.edge.status(), store: store.relay.size() } : {}), ...(parts.agent ? { upstream: parts.agent.status() } : {}) } } : {}),
      });
    },
    unknownRoute: (path) => unknownRoutes.report(path),
    now: () => clock.now(),
    admin: () => ({ token: served.current().adminToken, statusPage: served.current().config.admin.statusPage }),
    failures: {
      list: () => store.journal.failures(),
      retry(seqs) {
        const retried = store.journal.retry(seqs);
        if (retried > 0) log.info('failed reconcile requests owed again', { items: retried });
        return retried;
      },
    },
  });
}

/** Whether fluxgate can do its work: the store takes writes and the clusters answer (an agent connects upstream only then). */
async function readiness(parts: Parts): Promise<Readiness> {
  const health = parts.store.journal.health();
  if (!health.ok) return { ready: false, reason: 'store-unwritable', detail: `the state store cannot be written: ${health.error}` };
  return parts.clusters.readiness();
}

/** The agent's connection as /readyz shows it (shown, never a reason to be unready: the edge keeps what it misses). */
function upstreamReadiness(agent: Agent): NonNullable<Readiness['upstream']> {
  const status = agent.status();
  return {
    state: status.state,
    ...(status.error !== undefined ? { error: status.error } : {}),
    ...(status.lastEvent ? { lastEventId: status.lastEvent.id, lastEventAt: new Date(status.lastEvent.takenAt).toISOString() } : {}),
    ...(status.lagSeconds !== undefined ? { lagSeconds: status.lagSeconds } : {}),
    gaps: status.gaps,
  };
}

type Listener = ReturnType<typeof listen>;

/** Flushes pending reconcile requests, waits (bounded) for patches, then closes everything; the admin listener last. */
async function shutdownGateway(parts: Parts, listeners: readonly Listener[]): Promise<{ unfinished: number }> {
  const { config, log, store, clusters, served } = parts;
  const reconciler = clusters.reconciler;
  parts.unknownRoutes.stop();
  // No new relayed event is taken, and agents' streams end (they resume from what they acknowledged).
  await parts.agent?.stop();
  parts.edge?.close();
  await served.stopReceivers();
  log.info('shutting down: flushing pending reconcile requests', { pending: reconciler.pending() });
  const result = await reconciler.shutdown(config.server.shutdownTimeout);
  if (result.unfinished > 0 && store.durable) log.warn('shutdown timed out with patches unfinished: they stay in the journal and are patched at the next start', { ...result, store: store.describe });
  else if (result.unfinished > 0) log.error('shutdown timed out with patches unfinished (state.store: memory: they are lost)', result);
  // After the drain: a filtered delivery still being selected needs it.
  served.closeEvaluator();
  await clusters.stop();
  await store.close();
  // The admin listener stays up until the patches are done, so /metrics can watch the drain.
  await Promise.all(listeners.map((listener) => listener.stop()));
  log.info('stopped', result);
  return result;
}
