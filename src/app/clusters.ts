/**
 * The Kubernetes side of the composition root: connects every cluster (the one `kubernetes:` connection, or each
 * of `clusters:`), gives each its own dispatcher, label selection, reconciler and reporter (separate queues), puts
 * them behind one fleet, starts discovery in each, and answers /readyz for all of them.
 */
import type { Readiness } from '../http/index.ts';
import { failureClass } from '../kube/index.ts';
import type { DeliveryLog } from '../store/index.ts';
import type { Logger } from '../core/index.ts';
import type { Metrics } from '../observe/index.ts';
import { createDiscoveryReporter, createReconcileReporter, type ClusterReconcileReporter } from '../observe/index.ts';
import type { Discovery, DiscoveryOptions } from '../discovery/index.ts';
import type { DiscoveredKind } from '../discovery/index.ts';
import type { Config } from '../config/index.ts';
import type { Clock } from '../core/index.ts';
import { createDispatcher } from '../reconcile/index.ts';
import { createFleet } from '../reconcile/index.ts';
import { defaultApiVersion } from '../core/index.ts';
import { connectResolved, type KubeConnection } from '../kube/index.ts';
import type { KubeTarget } from '../kube/index.ts';
import { createLabelSelection } from '../reconcile/index.ts';
import { findMissingDiscoveryPermissions, findMissingPermissions, type MissingPermission } from '../kube/index.ts';
import { createReconciler, type Reconciler } from '../reconcile/index.ts';
import { type ObjectSelector } from '../core/index.ts';
import { type Ticket } from '../core/index.ts';
import type { WorkLedger } from '../reconcile/index.ts';
import { retryPolicy } from '../reconcile/index.ts';
import { createEventRecorder, type EventRecorder } from '../kube/index.ts';
import { eventFailures } from '../observe/index.ts';
import type { KubeClient } from '../kube/index.ts';
import { hostname } from 'node:os';

export interface ClustersOptions {
  config: Config;
  /** The single connection, or each configured cluster (`name` from `clusters:`). */
  targets: readonly { name?: string; kube: KubeTarget }[];
  metrics: Metrics;
  log: Logger;
  deliveries: DeliveryLog;
  /** Where patches settle the work they served (the journal). */
  ledger: WorkLedger;
  /** The process's one requestedAt source (values never repeat, whichever cluster they go to). */
  requestedAt: (now: Date) => string;
  clock: Clock;
  random?: () => number;
  /** Informer tuning for discovery (tests, benchmarks). */
  informer?: DiscoveryOptions['informer'];
}

export interface Clusters {
  /** Every cluster's reconciler behind one (fleet.ts). */
  reconciler: Reconciler;
  /** A cluster's queue was full: these objects of an accepted delivery were not requested there (its reporter says so). */
  refused(cluster: string | undefined, ticket: Ticket, selectors: readonly ObjectSelector[]): void;
  discovery?: Discovery;
  /** True when nothing is sent to any cluster. */
  dryRun: boolean;
  /** For logs and the status page: `kubeconfig: … → https://…`, or each cluster's. */
  describe: string;
  readiness(): Promise<Readiness>;
  /**
   * Logs, without delaying anything, each permission the config, discovery and Events need and a cluster's
   * credentials lack; each also joins `problems()`.
   */
  checkPermissions(selectors: readonly ObjectSelector[]): void;
  /** What the status page lists: API servers that did not answer at start-up, missing permissions. */
  problems(): readonly string[];
  /** The first cluster's client and mode: Flux Receivers are read from it. */
  /** The first cluster (the only one without `clusters:`, when `name` is undefined): where Receivers are read. */
  primary: { client: KubeClient; dryRun: boolean; name?: string };
  /** Ends discovery's watches (the reconcilers are drained by `reconciler.shutdown`). */
  stop(): Promise<void>;
}

/** The cluster's reporter, waking the Events that waited for its patches once none are left. */
function withEventsWoken(reporter: ClusterReconcileReporter, events: EventRecorder): ClusterReconcileReporter {
  return {
    ...reporter,
    pending(count) {
      reporter.pending(count);
      if (count === 0) events.wake();
    },
  };
}

/** How long a successful API-server check counts for /readyz, so probes do not load the API server. */
const readinessCacheMs = 2_000;

interface Member {
  name?: string;
  connection: KubeConnection;
  reconciler: Reconciler;
  lastReady: { at: number; result: Readiness };
}

/**
 * @example
 * const clusters = await startClusters({ config, targets: loaded.clusters ?? [{ kube: loaded.kube }], metrics, log, deliveries, ledger: journal, requestedAt, clock });
 * clusters.reconciler.submit(items);
 * await clusters.readiness(); // { ready: true, … }
 */
export async function startClusters(options: ClustersOptions): Promise<Clusters> {
  const { config, metrics, log, deliveries, clock, requestedAt } = options;
  const members: Member[] = [];
  const reporters = new Map<string | undefined, ReturnType<typeof createReconcileReporter>>();
  const problems: string[] = [];
  const eventFailed = eventFailures(metrics, log, clock);
  for (const target of options.targets) {
    const connection = await connectResolved(target.kube, { timeoutMs: config.kubernetes.requestTimeout });
    const where = target.name === undefined ? {} : { cluster: target.name };
    if (connection.warning) log.warn(connection.warning, where);
    log.info('kubernetes', { ...where, mode: connection.mode, target: connection.describe });
    const reporter = createReconcileReporter(metrics, log, deliveries, target.name);
    reporters.set(target.name, reporter);
    const dispatcher = createDispatcher({
      concurrency: config.reconcile.concurrency,
      policy: retryPolicy(config.reconcile.retry, options.random),
      clock,
      onRetry: (job, notice) => reporter.retrying(job.label, job.kind, notice),
    });
    // One Event per burst: the window covers the debounce window of the leading patch and the trailing patch that closes it.
    // Events wait while the cluster's patches are waiting or running: a fan-out's patches go first.
    let busy = () => false;
    const events =
      config.kubernetes.events && connection.mode !== 'dry-run'
        ? createEventRecorder({ api: connection.client.api, clock, windowMs: 2 * config.reconcile.debounce, instance: hostname(), failed: eventFailed, busy: () => busy() })
        : undefined;
    const reconciler = createReconciler({
      ...(events ? { events } : {}),
      client: connection.client,
      dryRun: connection.mode === 'dry-run',
      debounceMs: config.reconcile.debounce,
      maxAgeMs: config.reconcile.retry.maxAge,
      ledger: options.ledger,
      dispatcher,
      selection: createLabelSelection({ client: connection.client, dispatcher, clock, maxAgeMs: config.reconcile.debounce }),
      clock,
      requestedAt,
      reporter: events ? withEventsWoken(reporter, events) : reporter,
    });
    busy = () => reconciler.pending() > 0;
    members.push({ name: target.name, connection, reconciler, lastReady: { at: -Infinity, result: { ready: false, reason: 'not checked yet' } } });
  }
  const fleet = createFleet(members);
  const dryRun = members.every((member) => member.connection.mode === 'dry-run');
  const named = (member: Member) => (member.name === undefined ? '' : `cluster ${member.name}: `);

  const settings = config.discovery;
  let discovery: Discovery | undefined;
  let discoveredKinds: readonly DiscoveredKind[] = [];
  if (settings.enabled) {
    // Loaded only when on: the index, the ref rules and their libraries (semver, re2js) cost start-up otherwise.
    const { createDiscovery, DISCOVERED_KINDS } = await import('../discovery/index.ts');
    discoveredKinds = settings.kinds ?? DISCOVERED_KINDS;
    const live = members.filter((member) => member.connection.mode !== 'dry-run');
    if (live.length < members.length) log.warn('discovery needs a cluster to watch: it is off where reconcile requests are not sent (dry-run)', { clusters: members.length - live.length });
    discovery = createDiscovery({
      settings: { kinds: discoveredKinds, ...(settings.namespaces ? { namespaces: settings.namespaces } : {}), ...(settings.providers ? { providers: settings.providers } : {}) },
      clusters: live.map((member) => ({ ...(member.name !== undefined ? { name: member.name } : {}), api: member.connection.client.api })),
      clock,
      log,
      reporter: createDiscoveryReporter(metrics),
      ...(options.informer ? { informer: options.informer } : {}),
    });
    discovery.start();
  }

  /** Whether the cluster's API server answers (a success is reused for a moment, so probes do not load it). */
  async function apiReadiness(member: Member): Promise<Readiness> {
    if (member.lastReady.result.ready && clock.now() - member.lastReady.at < readinessCacheMs) return member.lastReady.result;
    let result: Readiness;
    try {
      await member.connection.client.ping(AbortSignal.timeout(config.kubernetes.requestTimeout));
      result = { ready: true };
    } catch (error) {
      result = { ready: false, reason: failureClass(error), detail: `Kubernetes API: ${(error as Error).message}` };
    }
    member.lastReady = { at: clock.now(), result };
    return result;
  }

  // Checked before serving, all clusters at once (an unreachable one costs at most requestTimeout), so the log
  // says at start which API servers do not answer.
  await Promise.all(
    members.map(async (member) => {
      if (member.connection.mode === 'dry-run') return;
      const startup = await apiReadiness(member);
      if (!startup.ready) {
        log.error('the Kubernetes API does not answer; /readyz reports 503 until it does', { ...(member.name !== undefined ? { cluster: member.name } : {}), reason: startup.detail });
        problems.push(`${named(member)}the Kubernetes API did not answer at start-up: ${startup.detail}`);
      }
    }),
  );

  async function memberReadiness(member: Member): Promise<Readiness> {
    if (member.connection.mode === 'dry-run') return { ready: true, reason: 'dry-run' };
    const api = await apiReadiness(member);
    if (!api.ready) return api;
    // Until each watched kind has been listed once, a push could miss what discovery has not seen yet.
    const unsynced = (discovery?.status() ?? []).filter((watch) => watch.cluster === member.name && !watch.synced);
    if (unsynced.length > 0) {
      return { ready: false, reason: 'discovery-not-synced', detail: `discovery has not listed ${unsynced.map((watch) => `${watch.kind}${watch.problem ? ` (${watch.problem})` : ''}`).join(', ')} yet` };
    }
    return { ready: true };
  }

  const watches = () => (discovery?.status() ?? []).map(({ cluster: _cluster, ...watch }) => watch);

  return {
    reconciler: fleet,
    refused: (cluster, ticket, selectors) => reporters.get(cluster)?.refused(ticket, selectors),
    discovery,
    dryRun,
    describe:
      members.length === 1 && members[0]!.name === undefined
        ? `${members[0]!.connection.mode}: ${members[0]!.connection.describe}`
        : members.map((member) => `${member.name} (${member.connection.mode}: ${member.connection.describe})`).join(', '),
    async readiness() {
      const results = await Promise.all(members.map(memberReadiness));
      if (members.length === 1 && members[0]!.name === undefined) {
        return discovery ? { ...results[0]!, discovery: watches() } : results[0]!;
      }
      // One cluster down must not take fluxgate out of its Service: the others still need their webhooks.
      const clusters = Object.fromEntries(
        members.map((member, index) => [member.name!, { ...results[index]!, ...(discovery ? { discovery: (discovery.status() ?? []).filter((watch) => watch.cluster === member.name).map(({ cluster: _c, ...watch }) => watch) } : {}) }]),
      );
      const down = members.filter((_, index) => !results[index]!.ready).map((member) => member.name!);
      const ready = down.length < members.length;
      return { ready, ...(down.length > 0 ? { reason: 'cluster-not-ready', detail: `not ready: ${down.join(', ')}` } : {}), clusters };
    },
    checkPermissions(selectors) {
      for (const member of members) {
        if (member.connection.mode === 'dry-run') continue;
        const mine = selectors.filter((selector) => selector.clusters === undefined || (member.name !== undefined && selector.clusters.includes(member.name)));
        void (async () => {
          try {
            const events = config.kubernetes.events;
            const missing: MissingPermission[] = [...(await findMissingPermissions(member.connection.client, mine, { events }))];
            if (discovery) {
              const kinds = discoveredKinds.map((kind) => ({ apiVersion: defaultApiVersion(kind)!, kind }));
              missing.push(...(await findMissingDiscoveryPermissions(member.connection.client, kinds, settings.namespaces)));
            }
            for (const gap of missing) {
              const where = gap.namespace === '' ? 'in any namespace' : `in ${gap.namespace}`;
              const effect =
                gap.kind === 'Event'
                  ? 'no Events will show why objects reconciled (kubernetes.events: false silences this)'
                  : gap.verb !== 'patch' && gap.selectors.includes('discovery')
                    ? 'discovery cannot keep its index of it'
                    : 'reconcile requests for it will fail with 403';
              const problem = `${named(member)}the Kubernetes credentials may not ${gap.verb} ${gap.kind} ${where}: ${effect}`;
              log.warn(problem, { ...(member.name !== undefined ? { cluster: member.name } : {}), affects: gap.selectors });
              problems.push(`${problem} (${gap.selectors.join(', ')})`);
            }
            log.info('kubernetes permissions checked', { ...(member.name !== undefined ? { cluster: member.name } : {}), missing: missing.length });
          } catch (error) {
            log.debug('could not check permissions', { ...(member.name !== undefined ? { cluster: member.name } : {}), error: (error as Error).message });
          }
        })();
      }
    },
    problems: () => problems,
    primary: { client: members[0]!.connection.client, dryRun: members[0]!.connection.mode === 'dry-run', ...(members[0]!.name !== undefined ? { name: members[0]!.name } : {}) },
    async stop() {
      await discovery?.stop();
    },
  };
}
