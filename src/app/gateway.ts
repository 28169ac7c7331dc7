/**
 * The composition root: loads the config, connects to Kubernetes, wires pipeline, reconcile and observers,
 * and serves HTTP. Nothing else in fluxgate creates long-lived state.
 */
import { createHttpApps } from '../http/index.ts';
import { fitRequestCap } from '../http/index.ts';
import { listen } from '../http/index.ts';
import { REFRESH_SECONDS, renderStatusPage } from '../http/index.ts';
import { createUnknownRoutes } from '../observe/index.ts';
import { createLogger, type Logger } from '../core/index.ts';
import { createMetrics } from '../observe/index.ts';
import { createWebhookReporter } from '../observe/index.ts';
import { addressBlocks, compileProviders } from '../pipeline/index.ts';
import { createRouteTable } from '../pipeline/index.ts';
import { systemClock, type Clock } from '../core/index.ts';
import { annotationFor, createRequestedAtClock, defaultApiVersion } from '../core/index.ts';
import type { Reconciler } from '../reconcile/index.ts';
import { createJournalReporter, createReplicaReporter } from '../observe/index.ts';
import { openStore } from '../store/index.ts';
import { dirname } from 'node:path';
import type { BuiltinProvider } from '../provider-kit/index.ts';
import type { Config } from '../config/index.ts';
import { LARGE_CONFIG_TARGETS } from '../config/index.ts';
import type { CelEvaluator } from '../receivers/index.ts';
import type { FluxReceivers } from '../receivers/index.ts';
import { startClusters, type ClustersOptions } from './clusters.ts';
import { loadConfigFile, type LoadedConfig } from './load-config.ts';
import { createReloader, type ReloadStatus } from './reload.ts';

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

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? createLogger();
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  // The same loader as `validate`: secrets, TLS files and the Kubernetes target are checked before anything starts.
  const loaded = await loadConfigFile({ path: options.configPath, builtins: options.builtins, env, dryRun: options.dryRun });
  const { config } = loaded;
  const metrics = createMetrics(options.version, undefined, { clustered: loaded.clusters !== undefined });
  // One token source for the process: requestedAt values never repeat, whichever cluster they go to.
  const requestedAt = createRequestedAtClock();
  // The journal feeds reconcile, and reconcile settles with the journal: the fleet is bound once the clusters are up.
  let fleet: Reconciler | undefined;
  let refusedBy: Parameters<typeof openStore>[0]['refused'];
  const store = await openStore({
    state: config.state,
    configDir: dirname(options.configPath),
    env,
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
  });
  const deliveries = store.deliveries;
  const webhookReporter = createWebhookReporter(metrics, log, deliveries, () => clock.now());
  // Per cluster: connection, queue, dispatcher, reconciler, Events; behind one fleet; discovery in each (clusters.ts).
  let clusters;
  try {
    clusters = await startClusters({ config, targets: loaded.clusters ?? [{ kube: loaded.kube }], metrics, log, deliveries, ledger: store.journal, requestedAt, clock, random: options.random, informer: options.informer });
  } catch (error) {
    await store.close();
    throw error;
  }
  fleet = clusters.reconciler;
  refusedBy = clusters.refused;
  const reconciler = clusters.reconciler;
  const { client, dryRun, name: primaryCluster } = clusters.primary;
  // What the journal owed when the last process stopped (or was killed) is reconciled again before serving.
  const replayed = store.journal.replay();
  metrics.storeReplayed.set(replayed);
  if (replayed > 0) log.info('reconciling what was accepted before the restart and not yet patched', { items: replayed });
  metrics.gaugeOf('fluxgate_store_size_bytes', 'Bytes the state store takes on disk (sqlite).', () => store.sizeBytes() ?? 0);
  metrics.gaugeOf('fluxgate_store_healthy', '1 when the state store takes writes, 0 when webhooks are answered 503 for it.', () => (store.journal.health().ok ? 1 : 0));
  // Config-file providers first: a path both serve stays the config's.
  const routes = createRouteTable(['config', 'receivers']);
  // The cluster's Flux Receivers, on their own paths: started once the listeners are up, restarted by a reload
  // that changes fluxReceivers or the provider types.
  let receivers: FluxReceivers | undefined;
  // One CEL evaluator (a worker thread) for the process, made when Receivers are first served: it outlives a
  // reload's watcher, whose routes still evaluate until the new watcher's replace them.
  let evaluator: CelEvaluator | undefined;
  const startReceivers = async (from: LoadedConfig) => {
    if (!from.config.fluxReceivers.enabled) return undefined;
    // Loaded only when enabled: it brings the CEL library.
    const { serveFluxReceivers, createCelEvaluator } = await import('../receivers/index.ts');
    evaluator ??= createCelEvaluator({ clock });
    return serveFluxReceivers({ config: from.config.fluxReceivers, client, ...(primaryCluster !== undefined ? { cluster: primaryCluster } : {}), dryRun, catalog: from.catalog, routes, clock, log, evaluator });
  };
  // The config being served: replaced as a whole by a reload; what was read once at start-up stays `config`.
  let serving = loaded;
  const applyConfig = async (next: LoadedConfig) => {
    const previous = serving;
    routes.replace('config', [...compileProviders(next.config, next.providers, { defaultApiVersion, annotationFor }, next.matchCompiler).values()]);
    serving = next;
    // Loading a large config leaves tens of MiB of garbage (and a reload, the old routes): collected now, before
    // the heap grows around it, the pages go back to the system (RSS with 10,000 targets: 105 → 97 MiB).
    if (next.config.targets.length >= LARGE_CONFIG_TARGETS) Bun.gc(true);
    const receiverInputs = (from: LoadedConfig) => JSON.stringify([from.config.fluxReceivers, from.catalog.versions]);
    if (previous !== next && receiverInputs(previous) !== receiverInputs(next)) {
      // The old watcher's routes stay until the new one replaces them, so a Receiver never 404s in between.
      await receivers?.stop();
      receivers = await startReceivers(next);
      if (!receivers) routes.replace('receivers', []);
    }
  };
  await applyConfig(loaded);
  let accepting = true;
  const readiness = async () => {
    const health = store.journal.health();
    if (!health.ok) return { ready: false, reason: 'store-unwritable', detail: `the state store cannot be written: ${health.error}` };
    return clusters.readiness();
  };
  if (!clusters.dryRun) {
    // Targets are shared between providers: each selector once.
    const selectors = new Map(routes.all().flatMap((provider) => provider.targets.all.flatMap((target) => target.selectors)).map((selector) => [selector.key, selector]));
    clusters.checkPermissions([...selectors.values()]);
  }

  const startedAt = new Date(clock.now()).toISOString();
  const maxConcurrentRequests = fitRequestCap(config.server.maxConcurrentRequests, log);
  const unknownRoutes = createUnknownRoutes({ metrics, log, clock, windowMs: unknownRouteLogWindowMs });
  const apps = createHttpApps({
    routes,
    ...(config.server.trustedProxies ? { trustedProxies: addressBlocks(config.server.trustedProxies) } : {}),
    webhook: {
      journal: store.journal,
      accepting: () => accepting,
      reporter: webhookReporter,
      now: () => clock.now(),
      retryAfterSeconds: 5,
      ...(clusters.discovery ? { discover: clusters.discovery.find } : {}),
    },
    limits: { ...config.server, maxConcurrentRequests },
    timers: clock,
    metrics,
    log,
    deliveries,
    accepting: () => accepting,
    readiness,
    statusPage: (refresh) =>
      renderStatusPage({
        version: options.version,
        kubernetes: clusters.describe,
        dryRun: clusters.dryRun,
        config: serving.config,
        providers: routes.all(),
        deliveries: deliveries.recent(),
        startedAt,
        reload: reloader.status(),
        problems: clusters.problems(),
        unknownHooks: unknownRoutes.summary(),
        ...(refresh ? { refreshSeconds: REFRESH_SECONDS } : {}),
        ...(receivers ? { receivers: { list: receivers.list(), problem: receivers.problem() } } : {}),
        state: { describe: store.describe, durable: store.durable, health: store.journal.health(), owed: store.journal.pending(), failures: store.journal.failures(), ...optionalSize(store.sizeBytes()) },
      }),
    unknownRoute: (path) => unknownRoutes.report(path),
    now: () => clock.now(),
    admin: () => ({ token: serving.adminToken, statusPage: serving.config.admin.statusPage }),
    failures: {
      list: () => store.journal.failures(),
      retry(seqs) {
        const retried = store.journal.retry(seqs);
        if (retried > 0) log.info('failed reconcile requests owed again', { items: retried });
        return retried;
      },
    },
  });

  const tls = loaded.tls;
  const server = listen({ role: 'server.address', address: options.address ?? config.server.address, tls, idleTimeoutMs: config.server.idleTimeout, handle: apps.webhook.handle });
  // The admin surface speaks plain HTTP: it listens on loopback unless opened on purpose (e.g. for Prometheus in a pod).
  let admin;
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
    load: (plugins) => loadConfigFile({ path: options.configPath, builtins: options.builtins, env, dryRun: options.dryRun, plugins }),
    apply: applyConfig,
    counted: (outcome) => metrics.configReloads.inc({ outcome }),
    clock,
    log,
    watch: options.watchConfig ?? true,
    settleMs: reloadSettleMs,
  });
  log.info('fluxgate listening', { address: server.address, admin: admin.address, providers: routes.all().map((provider) => provider.name), targets: config.targets.length, tls: Boolean(tls) });
  receivers = await startReceivers(loaded);

  let stopping: Promise<{ unfinished: number }> | undefined;
  return {
    url: server.url,
    port: server.port,
    adminUrl: admin.url,
    handle: (request) => apps.webhook.handle(request),
    handleAdmin: (request) => apps.admin.handle(request),
    reload: (trigger) => reloader.reload(trigger),
    config: () => serving.config,
    shutdown() {
      stopping ??= (async () => {
        accepting = false;
        reloader.stop();
        unknownRoutes.stop();
        await receivers?.stop();
        log.info('shutting down: flushing pending reconcile requests', { pending: reconciler.pending() });
        const result = await reconciler.shutdown(config.server.shutdownTimeout);
        if (result.unfinished > 0 && store.durable) log.warn('shutdown timed out with patches unfinished: they stay in the journal and are patched at the next start', { ...result, store: store.describe });
        else if (result.unfinished > 0) log.error('shutdown timed out with patches unfinished (state.store: memory: they are lost)', result);
        // After the drain: a filtered delivery still being selected needs it.
        evaluator?.close();
        await clusters.stop();
        await store.close();
        // The admin listener stays up until the patches are done, so /metrics can watch the drain.
        await Promise.all([server.stop(), admin.stop()]);
        log.info('stopped', result);
        return result;
      })();
      return stopping;
    },
  };
}
