/**
 * The Kubernetes side of the composition root: connects every cluster (the one `kubernetes:` connection, or each
 * of `clusters:`), gives each its own dispatcher, label selection, reconciler and reporter (separate queues), puts
 * them behind one fleet, starts discovery in each, and answers /readyz for all of them.
 */
import type { Readiness } from '../http/index.ts';
import type { Discovery, DiscoveryOptions } from '../discovery/index.ts';
import type { DiscoveredKind } from '../discovery/index.ts';
import { createInformerPool, type InformerPool, type KubeClient, type KubeTarget } from '../kube/index.ts';
import type { Feedback, FeedbackOptions } from '../feedback/index.ts';
import { followedKinds, followedNamespaces } from '../config/index.ts';
import { createDiscoveryReporter, createFollowReporter, eventFailures } from '../observe/index.ts';
import { createFleet, type Reconciler } from '../reconcile/index.ts';
import type { ObjectSelector, Ticket } from '../core/index.ts';
import { apiReadiness, named, startMember, type Member, type MemberOptions } from './cluster-member.ts';
import { checkMemberPermissions } from './cluster-permissions.ts';

export interface ClustersOptions extends MemberOptions {
  /** The single connection, or each configured cluster (`name` from `clusters:`). */
  targets: readonly { name?: string; kube: KubeTarget }[];
  /** Informer tuning for discovery and following (tests, benchmarks). */
  informer?: DiscoveryOptions['informer'];
  /** Following's commit statuses (`feedback.commitStatus`): how they are named and routed, and the writer. */
  statuses?: FeedbackOptions['statuses'];
}

export interface Clusters {
  /** Every cluster's reconciler behind one (fleet.ts). */
  reconciler: Reconciler;
  /** A cluster's queue was full: these objects of an accepted delivery were not requested there (its reporter says so). */
  refused(cluster: string | undefined, ticket: Ticket, selectors: readonly ObjectSelector[]): void;
  discovery?: Discovery;
  /** Following (`feedback.enabled`). */
  feedback?: Feedback;
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
  /** The first cluster (the only one without `clusters:`, when `name` is undefined): where Receivers are read. */
  primary: { client: KubeClient; dryRun: boolean; name?: string };
  /** Ends discovery's watches (the reconcilers are drained by `reconciler.shutdown`). */
  stop(): Promise<void>;
}

/**
 * @example
 * const clusters = await startClusters({ config, targets: loaded.clusters ?? [{ kube: loaded.kube }], metrics, log, deliveries, ledger: journal, requestedAt, clock });
 * clusters.reconciler.submit(items);
 * await clusters.readiness(); // { ready: true, … }
 */
export async function startClusters(options: ClustersOptions): Promise<Clusters> {
  const { config, log, clock } = options;
  const eventFailed = eventFailures(options.metrics, log, clock);
  const members: Member[] = [];
  // Following is made once the clusters are connected; their reconcilers hand it each patch from the start.
  let feedback: Feedback | undefined;
  const memberOptions = config.feedback.enabled ? { ...options, patched: (cluster: string | undefined, report: Parameters<Feedback['patched']>[1]) => feedback?.patched(cluster, report) } : options;
  for (const target of options.targets) members.push(await startMember(target, memberOptions, eventFailed));
  const reporters = new Map(members.map((member) => [member.name, member.reporter]));
  const fleet = createFleet(members);
  const problems: string[] = [];
  // One informer per kind and cluster, shared by discovery and following.
  const pool = createInformerPool();
  const discovered = config.discovery.enabled ? await startDiscovery(members, options, pool) : undefined;
  const discovery = discovered?.discovery;
  feedback = config.feedback.enabled ? await startFeedback(members, options, pool) : undefined;
  pool.start();
  await checkAtStart(members, options, problems);
  const first = members[0]!;
  return {
    reconciler: fleet,
    refused: (cluster, ticket, selectors) => reporters.get(cluster)?.refused(ticket, selectors),
    discovery,
    ...(feedback ? { feedback } : {}),
    dryRun: members.every((member) => member.connection.mode === 'dry-run'),
    describe:
      members.length === 1 && first.name === undefined
        ? `${first.connection.mode}: ${first.connection.describe}`
        : members.map((member) => `${member.name} (${member.connection.mode}: ${member.connection.describe})`).join(', '),
    readiness: () => readinessOf(members, discovery, options),
    checkPermissions(selectors) {
      const following = feedback ? { feedback: { kinds: followedKinds(config), namespaces: followedNamespaces(config) } } : {};
      const check = { events: config.kubernetes.events, ...(discovered ? { discovery: { kinds: discovered.kinds, ...(config.discovery.namespaces ? { namespaces: config.discovery.namespaces } : {}) } } : {}), ...following, log, problems };
      for (const member of members) if (member.connection.mode !== 'dry-run') void checkMemberPermissions(member, selectors, check);
    },
    problems: () => problems,
    primary: { client: first.connection.client, dryRun: first.connection.mode === 'dry-run', ...(first.name !== undefined ? { name: first.name } : {}) },
    async stop() {
      await Promise.all([discovery?.stop(), feedback?.stop()]);
    },
  };
}

/** Starts discovery in every cluster reconcile requests are sent to; returns it with the kinds it watches. */
async function startDiscovery(members: readonly Member[], options: ClustersOptions, pool: InformerPool): Promise<{ discovery: Discovery; kinds: readonly DiscoveredKind[] }> {
  const { log } = options;
  const settings = options.config.discovery;
  // Loaded only when on: the index, the ref rules and their libraries (semver, re2js) cost start-up otherwise.
  const { createDiscovery, DISCOVERED_KINDS } = await import('../discovery/index.ts');
  const kinds = settings.kinds ?? DISCOVERED_KINDS;
  const live = members.filter((member) => member.connection.mode !== 'dry-run');
  if (live.length < members.length) log.warn('discovery needs a cluster to watch: it is off where reconcile requests are not sent (dry-run)', { clusters: members.length - live.length });
  const discovery = createDiscovery({
    settings: { kinds, ...(settings.namespaces ? { namespaces: settings.namespaces } : {}), ...(settings.providers ? { providers: settings.providers } : {}) },
    clusters: live.map((member) => ({ ...(member.name !== undefined ? { name: member.name } : {}), api: member.connection.client.api })),
    clock: options.clock,
    log,
    reporter: createDiscoveryReporter(options.metrics),
    ...(options.informer ? { informer: options.informer } : {}),
    informers: pool.informer,
  });
  discovery.start();
  return { discovery, kinds };
}

/** Starts following in every cluster reconcile requests are sent to, on informers from the pool discovery shares. */
async function startFeedback(members: readonly Member[], options: ClustersOptions, pool: InformerPool): Promise<Feedback> {
  const { config, log } = options;
  // Loaded only when on.
  const { createFeedback } = await import('../feedback/index.ts');
  const live = members.filter((member) => member.connection.mode !== 'dry-run');
  if (live.length < members.length) log.warn('following needs a cluster to watch: it is off where reconcile requests are not sent (dry-run)', { clusters: members.length - live.length });
  const namespaces = followedNamespaces(config);
  const feedback = createFeedback({
    clusters: live.map((member) => ({ ...(member.name !== undefined ? { name: member.name } : {}), api: member.connection.client.api })),
    kinds: followedKinds(config),
    ...(namespaces ? { namespaces } : {}),
    timeoutMs: config.feedback.timeout,
    maxFollowed: config.feedback.maxFollowed,
    informers: pool.informer,
    ...(options.informer ? { informer: options.informer } : {}),
    clock: options.clock,
    log,
    reporter: createFollowReporter(options.metrics, log, options.deliveries),
    ...(options.statuses ? { statuses: options.statuses } : {}),
  });
  feedback.start();
  log.info('following patched objects until the pushed commit is applied', { timeoutMs: config.feedback.timeout, namespaces: namespaces ?? 'all', commitStatus: options.statuses !== undefined });
  return feedback;
}

/**
 * Checked before serving, all clusters at once (an unreachable one costs at most requestTimeout), so the log says
 * at start which API servers do not answer.
 */
async function checkAtStart(members: readonly Member[], options: ClustersOptions, problems: string[]): Promise<void> {
  await Promise.all(
    members.map(async (member) => {
      if (member.connection.mode === 'dry-run') return;
      const startup = await apiReadiness(member, options.clock, options.config.kubernetes.requestTimeout);
      if (!startup.ready) {
        options.log.error('the Kubernetes API does not answer; /readyz reports 503 until it does', { ...(member.name !== undefined ? { cluster: member.name } : {}), reason: startup.detail });
        problems.push(`${named(member)}the Kubernetes API did not answer at start-up: ${startup.detail}`);
      }
    }),
  );
}

/** /readyz for every cluster: one cluster down must not take fluxgate out of its Service while others still need their webhooks. */
async function readinessOf(members: readonly Member[], discovery: Discovery | undefined, options: ClustersOptions): Promise<Readiness> {
  const watchesOf = (member: Member) => (discovery?.status() ?? []).filter((watch) => watch.cluster === member.name).map(({ cluster: _cluster, ...watch }) => watch);
  const results = await Promise.all(members.map((member) => memberReadiness(member, discovery, options)));
  if (members.length === 1 && members[0]!.name === undefined) {
    return discovery ? { ...results[0]!, discovery: (discovery.status() ?? []).map(({ cluster: _cluster, ...watch }) => watch) } : results[0]!;
  }
  const clusters = Object.fromEntries(members.map((member, index) => [member.name!, { ...results[index]!, ...(discovery ? { discovery: watchesOf(member) } : {}) }]));
  const down = members.filter((_, index) => !results[index]!.ready).map((member) => member.name!);
  const ready = down.length < members.length;
  return { ready, ...(down.length > 0 ? { reason: 'cluster-not-ready', detail: `not ready: ${down.join(', ')}` } : {}), clusters };
}

async function memberReadiness(member: Member, discovery: Discovery | undefined, options: ClustersOptions): Promise<Readiness> {
  if (member.connection.mode === 'dry-run') return { ready: true, reason: 'dry-run' };
  const api = await apiReadiness(member, options.clock, options.config.kubernetes.requestTimeout);
  if (!api.ready) return api;
  // Until each watched kind has been listed once, a push could miss what discovery has not seen yet.
  const unsynced = (discovery?.status() ?? []).filter((watch) => watch.cluster === member.name && !watch.synced);
  if (unsynced.length > 0) {
    return { ready: false, reason: 'discovery-not-synced', detail: `discovery has not listed ${unsynced.map((watch) => `${watch.kind}${watch.problem ? ` (${watch.problem})` : ''}`).join(', ')} yet` };
  }
  return { ready: true };
}
