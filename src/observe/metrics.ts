/**
 * The fluxgate_* metrics, on prom-client. No label carries a secret, a delivery id or an unbounded value:
 * provider names and types come from the config, event names are capped to the provider's configured set, and
 * with `clusters:` the per-cluster metrics carry a `cluster` label whose values are the configured names.
 *
 * Nothing is registered in prom-client's global registry: each gateway (and each test) owns its metrics. The
 * exposition is Prometheus text 0.0.4 only: prom-client 15 renames a counter in place when a registry renders
 * it as OpenMetrics (`fluxgate_x_total` becomes `fluxgate_x`), so one set of metrics cannot serve both formats,
 * and every scraper reads the text format.
 */
import { Counter, Gauge, Histogram, Registry } from './prom.ts';
import { registerProcessMetrics } from './process-metrics.ts';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const requestBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

/** One scrape's answer. */
export interface Exposition {
  contentType: string;
  body: string;
}

export interface Metrics {
  /** The registry behind /metrics (pass `registers: [metrics.registry]` to a new metric). */
  registry: Registry;
  /** With `clusters:`: the per-cluster metrics take the cluster name as a label (see `labels`). */
  clustered: boolean;
  /** The labels of a per-cluster metric: `cluster` added when clustered. */
  labels<T extends Record<string, string>>(cluster: string | undefined, values: T): T & { cluster?: string };
  webhookRequests: Counter<'provider' | 'type' | 'event' | 'outcome'>;
  webhookDuration: Histogram<'provider'>;
  /** Deliveries verified by a provider's `previousSecret` (not its `secret`): flat once the host has switched. */
  webhookPreviousSecret: Counter<'provider' | 'type'>;
  reconcileRequests: Counter<'cluster' | 'kind' | 'outcome'>;
  reconcileRetries: Counter<'cluster' | 'kind' | 'reason'>;
  /** Patches given up after reconcile.retry.maxAttempts (or at shutdown). */
  reconcileRetriesExhausted: Counter<'cluster' | 'kind'>;
  /** Webhook accepted → patch acknowledged. */
  reconcileLatency: Histogram;
  debounceCoalesced: Counter;
  reconcilePending: Gauge<'cluster'>;
  /** Objects discovery holds, by kind. */
  discoveryObjects: Gauge<'cluster' | 'kind'>;
  /** The state of discovery's watch of each kind: 1 for the current state, 0 for the others. */
  discoveryWatchState: Gauge<'cluster' | 'kind' | 'state'>;
  /** Config reloads by outcome. */
  configReloads: Counter<'outcome'>;
  /** Kubernetes Events that could not be written, by reason. */
  eventsFailed: Counter<'reason'>;
  /** Time to write one group commit of the journal (many webhooks share one). */
  storeCommitDuration: Histogram;
  /** Writes the store refused (disk full, read-only, NATS unreachable…), by operation. */
  storeErrors: Counter<'operation'>;
  /** Work items owed and not yet settled (objects or label queries to reconcile). */
  journalPending: Gauge<'cluster'>;
  /** Failures kept for a retry by hand. */
  journalFailures: Gauge;
  /** Items read back from the store and reconciled again at start. */
  storeReplayed: Gauge;
  /** Store files that could not be read at start and were moved aside. */
  storeMovedAside: Counter;
  /** `store: nats`: work items owed in the partitions this replica owns (the objects it reconciles). */
  storeOwnedItems: Gauge;
  /** `store: nats`: partitions of the objects this replica owns. */
  storeOwnedPartitions: Gauge;
  /** `store: nats`: partitions this replica took (at start, from a replica gone, or handed back). */
  storePartitionsAcquired: Counter;
  /** Following: push → a source has the pushed revision, by kind. */
  pushToFetched: Histogram<'cluster' | 'kind'>;
  /** Following: push → an object applied the pushed revision and is ready, by kind. */
  pushToApplied: Histogram<'cluster' | 'kind'>;
  /** Following: objects followed now. */
  feedbackFollowing: Gauge;
  /** Following: follows ended, by how (`applied`, `fetched`, `handled`, `failed`, `timed_out`, `superseded`, `not_followed`). */
  feedbackFollows: Counter<'outcome'>;
  /** Commit statuses by the provider type whose host took them, and outcome (`sent`, `failed`, `dropped`, `rate_limited`). */
  commitStatuses: Counter<'type' | 'outcome'>;
  /** Adds a gauge read when /metrics is scraped (what a limit bounds, for instance). */
  gaugeOf(name: string, help: string, read: () => number): void;
  /** What /metrics answers: the Prometheus text exposition and its content type. */
  scrape(): Promise<Exposition>;
}

/**
 * @example
 * const metrics = createMetrics('0.1.0+3f9c2a1b7d4e'); // fluxgate_build_info{version="0.1.0+3f9c2a1b7d4e"} 1
 * metrics.webhookRequests.inc({ provider: 'github', type: 'github', event: 'push', outcome: 'accepted' });
 * const { contentType, body } = await metrics.scrape();
 */
export function createMetrics(version: string, startTimeSeconds = Date.now() / 1000, options: { clustered?: boolean } = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const clustered = options.clustered === true;
  const perCluster: PerCluster = (...names) => (clustered ? ['cluster', ...names] : names);
  // A binary's version carries its commit (src/version.ts), so one label says both.
  new Gauge({ name: 'fluxgate_build_info', help: 'fluxgate build information.', labelNames: ['version'], registers }).set({ version }, 1);
  // prom-client writes metrics in the order they were registered: the groups below keep that order.
  const metrics: Metrics = {
    registry,
    clustered,
    // The cluster first: prom-client writes labels in this order, and it reads best as the outermost one.
    labels: (cluster, values) => (clustered ? { cluster: cluster ?? '', ...values } : values),
    ...webhookMetrics(registers),
    ...reconcileMetrics(registers, perCluster),
    ...discoveryMetrics(registers, perCluster),
    configReloads: new Counter({
      name: 'fluxgate_config_reloads_total',
      help: 'Config reloads by outcome (failure: the new config had problems and the running one kept serving).',
      labelNames: ['outcome'],
      registers,
    }),
    eventsFailed: new Counter({
      name: 'fluxgate_kubernetes_events_failed_total',
      help: 'Kubernetes Events that could not be written (reconcile requests are not affected), by reason.',
      labelNames: ['reason'],
      registers,
    }),
    ...storeMetrics(registers, perCluster),
    ...feedbackMetrics(registers, perCluster),
    gaugeOf(name, help, read) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
  // Both outcomes exist from the start, so increase() sees the first failure.
  for (const outcome of ['success', 'failure']) metrics.configReloads.inc({ outcome }, 0);
  metrics.storeErrors.inc({ operation: 'commit' }, 0);
  registerProcessMetrics(registers, startTimeSeconds);
  return metrics;
}

/** The label names of a per-cluster metric: `cluster` first when clustered. */
type PerCluster = <T extends string>(...names: T[]) => (T | 'cluster')[];

function webhookMetrics(registers: Registry[]): Pick<Metrics, 'webhookRequests' | 'webhookDuration' | 'webhookPreviousSecret'> {
  return {
    webhookRequests: new Counter({
      name: 'fluxgate_webhook_requests_total',
      help: 'Webhook requests by provider, type, event and outcome.',
      labelNames: ['provider', 'type', 'event', 'outcome'],
      registers,
    }),
    webhookDuration: new Histogram({
      name: 'fluxgate_webhook_request_duration_seconds',
      help: 'Time to answer a webhook request.',
      labelNames: ['provider'],
      buckets: requestBuckets,
      registers,
    }),
    webhookPreviousSecret: new Counter({
      name: 'fluxgate_webhook_verified_with_previous_secret_total',
      help: "Webhook deliveries verified by the provider's previousSecret, not its secret: once flat, the host has switched and previousSecret can go.",
      labelNames: ['provider', 'type'],
      registers,
    }),
  };
}

function reconcileMetrics(registers: Registry[], perCluster: PerCluster): Pick<Metrics, 'reconcileRequests' | 'reconcileRetries' | 'reconcileRetriesExhausted' | 'reconcileLatency' | 'debounceCoalesced' | 'reconcilePending'> {
  return {
    reconcileRequests: new Counter({ name: 'fluxgate_reconcile_requests_total', help: 'Reconcile requests (patches) by kind and outcome.', labelNames: perCluster('kind', 'outcome'), registers }),
    reconcileRetries: new Counter({ name: 'fluxgate_reconcile_retries_total', help: 'Patch retries by kind and reason.', labelNames: perCluster('kind', 'reason'), registers }),
    reconcileRetriesExhausted: new Counter({
      name: 'fluxgate_reconcile_retries_exhausted_total',
      help: 'Patches that failed after every retry, by kind.',
      labelNames: perCluster('kind'),
      registers,
    }),
    reconcileLatency: new Histogram({
      name: 'fluxgate_reconcile_latency_seconds',
      help: 'Time from a webhook being accepted to the patch being acknowledged.',
      buckets: latencyBuckets,
      registers,
    }),
    debounceCoalesced: new Counter({ name: 'fluxgate_debounce_coalesced_total', help: 'Reconcile requests folded into an already pending patch.', registers }),
    reconcilePending: new Gauge({ name: 'fluxgate_reconcile_pending', help: 'Objects with a patch waiting, queued, in flight or backing off.', labelNames: perCluster(), registers }),
  };
}

function discoveryMetrics(registers: Registry[], perCluster: PerCluster): Pick<Metrics, 'discoveryObjects' | 'discoveryWatchState'> {
  return {
    discoveryObjects: new Gauge({ name: 'fluxgate_discovery_objects', help: 'Objects discovery holds, by kind.', labelNames: perCluster('kind'), registers }),
    discoveryWatchState: new Gauge({
      name: 'fluxgate_discovery_watch_state',
      help: "The state of discovery's watch of each kind: 1 for the current state, 0 for the others.",
      labelNames: perCluster('kind', 'state'),
      registers,
    }),
  };
}

/** Push → stage, in seconds: a push reaches a cluster in seconds with webhooks, in minutes without. */
const stageBuckets = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

function feedbackMetrics(registers: Registry[], perCluster: PerCluster): Pick<Metrics, 'pushToFetched' | 'pushToApplied' | 'feedbackFollowing' | 'feedbackFollows' | 'commitStatuses'> {
  return {
    pushToFetched: new Histogram({ name: 'fluxgate_push_to_fetched_seconds', help: 'Time from a push to a followed source having its revision, by kind.', labelNames: perCluster('kind'), buckets: stageBuckets, registers }),
    pushToApplied: new Histogram({ name: 'fluxgate_push_to_applied_seconds', help: 'Time from a push to a followed object having applied its revision and being ready, by kind.', labelNames: perCluster('kind'), buckets: stageBuckets, registers }),
    feedbackFollowing: new Gauge({ name: 'fluxgate_feedback_following', help: 'Objects followed until the pushed revision is applied.', registers }),
    feedbackFollows: new Counter({ name: 'fluxgate_feedback_follows_total', help: 'Follows ended, by outcome.', labelNames: ['outcome'], registers }),
    commitStatuses: new Counter({ name: 'fluxgate_commit_statuses_total', help: 'Commit statuses by provider type and outcome.', labelNames: ['type', 'outcome'], registers }),
  };
}

function storeMetrics(
  registers: Registry[],
  perCluster: PerCluster,
): Pick<Metrics, 'storeCommitDuration' | 'storeErrors' | 'journalPending' | 'journalFailures' | 'storeReplayed' | 'storeMovedAside' | 'storeOwnedItems' | 'storeOwnedPartitions' | 'storePartitionsAcquired'> {
  return {
    storeCommitDuration: new Histogram({ name: 'fluxgate_store_commit_duration_seconds', help: 'Time to write one group commit of the journal.', buckets: requestBuckets, registers }),
    storeErrors: new Counter({ name: 'fluxgate_store_errors_total', help: 'Writes the state store refused, by operation.', labelNames: ['operation'], registers }),
    journalPending: new Gauge({ name: 'fluxgate_journal_pending', help: 'Work items accepted and not yet settled by a patch.', labelNames: perCluster(), registers }),
    journalFailures: new Gauge({ name: 'fluxgate_journal_failures', help: 'Failed reconcile requests kept for a retry by hand.', registers }),
    storeReplayed: new Gauge({ name: 'fluxgate_store_replayed_items', help: 'Work items read back from the store and reconciled again at start.', registers }),
    storeMovedAside: new Counter({ name: 'fluxgate_store_moved_aside_total', help: 'State files that could not be read at start and were moved aside.', registers }),
    storeOwnedItems: new Gauge({ name: 'fluxgate_store_owned_items', help: 'Work items owed in the partitions this replica owns (store: nats).', registers }),
    storeOwnedPartitions: new Gauge({ name: 'fluxgate_store_owned_partitions', help: 'Partitions of the objects this replica owns (store: nats).', registers }),
    storePartitionsAcquired: new Counter({ name: 'fluxgate_store_partitions_acquired_total', help: 'Partitions this replica took over (store: nats).', registers }),
  };
}
