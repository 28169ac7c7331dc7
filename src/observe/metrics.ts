/**
 * The fluxgate_* metrics named in the spec. No label carries a secret, a delivery id or an unbounded value:
 * provider names and types come from the config, event names are capped to the provider's configured set, and
 * with `clusters:` the per-cluster metrics carry a `cluster` label whose values are the configured names.
 */
import { Counter, Gauge, Histogram, Registry } from './metrics-registry.ts';
import { processMetrics } from './process-metrics.ts';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const requestBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

export interface Metrics {
  registry: Registry;
  /** With `clusters:`: the per-cluster metrics take the cluster name as their first label (see `labels`). */
  clustered: boolean;
  /** The label values of a per-cluster metric: the cluster first when clustered. */
  labels(cluster: string | undefined, ...values: string[]): string[];
  webhookRequests: Counter; // provider, type, event, outcome
  webhookDuration: Histogram; // provider
  reconcileRequests: Counter; // kind, outcome
  reconcileRetries: Counter; // kind, reason
  reconcileLatency: Histogram;
  debounceCoalesced: Counter;
  reconcilePending: Gauge; // [cluster]
  discoveryObjects: Gauge; // [cluster,] kind
  discoveryWatchState: Gauge; // [cluster,] kind, state
}

export function createMetrics(version: string, startTimeSeconds = Date.now() / 1000, options: { clustered?: boolean } = {}): Metrics {
  const registry = new Registry();
  const clustered = options.clustered === true;
  const perCluster = (...names: string[]) => (clustered ? ['cluster', ...names] : names);
  const buildInfo = registry.register(new Gauge('fluxgate_build_info', 'fluxgate build information.', ['version']));
  buildInfo.set(1, [version]);
  const metrics: Metrics = {
    registry,
    clustered,
    labels: (cluster, ...values) => (clustered ? [cluster ?? '', ...values] : values),
    webhookRequests: registry.register(
      new Counter('fluxgate_webhook_requests_total', 'Webhook requests by provider, type, event and outcome.', ['provider', 'type', 'event', 'outcome']),
    ),
    webhookDuration: registry.register(
      new Histogram('fluxgate_webhook_request_duration_seconds', 'Time to answer a webhook request.', ['provider'], requestBuckets),
    ),
    reconcileRequests: registry.register(
      new Counter('fluxgate_reconcile_requests_total', 'Reconcile requests (patches) by kind and outcome.', perCluster('kind', 'outcome')),
    ),
    reconcileRetries: registry.register(new Counter('fluxgate_reconcile_retries_total', 'Patch retries by kind and reason.', perCluster('kind', 'reason'))),
    reconcileLatency: registry.register(
      new Histogram('fluxgate_reconcile_latency_seconds', 'Time from a webhook being accepted to the patch being acknowledged.', [], latencyBuckets),
    ),
    debounceCoalesced: registry.register(
      new Counter('fluxgate_debounce_coalesced_total', 'Reconcile requests folded into an already pending patch.', []),
    ),
    reconcilePending: registry.register(new Gauge('fluxgate_reconcile_pending', 'Objects with a patch waiting, queued, in flight or backing off.', perCluster())),
    discoveryObjects: registry.register(new Gauge('fluxgate_discovery_objects', 'Objects discovery holds, by kind.', perCluster('kind'))),
    discoveryWatchState: registry.register(
      new Gauge('fluxgate_discovery_watch_state', "The state of discovery's watch of each kind: 1 for the current state, 0 for the others.", perCluster('kind', 'state')),
    ),
  };
  registry.register(processMetrics(startTimeSeconds));
  return metrics;
}
