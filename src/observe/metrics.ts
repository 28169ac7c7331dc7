/**
 * The fluxgate_* metrics named in the spec. No label carries a secret, a delivery id or an unbounded value:
 * provider names and types come from the config, event names are capped to the provider's configured set.
 */
import { Counter, Gauge, Histogram, Registry } from './metrics-registry.ts';
import { processMetrics } from './process-metrics.ts';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const requestBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

export interface Metrics {
  registry: Registry;
  webhookRequests: Counter; // provider, type, event, outcome
  webhookDuration: Histogram; // provider
  reconcileRequests: Counter; // kind, outcome
  reconcileRetries: Counter; // kind, reason
  reconcileLatency: Histogram;
  debounceCoalesced: Counter;
  reconcilePending: Gauge;
  configReloads: Counter; // outcome
  eventsFailed: Counter; // reason
}

export function createMetrics(version: string, startTimeSeconds = Date.now() / 1000): Metrics {
  const registry = new Registry();
  const buildInfo = registry.register(new Gauge('fluxgate_build_info', 'fluxgate build information.', ['version']));
  buildInfo.set(1, [version]);
  const metrics: Metrics = {
    registry,
    webhookRequests: registry.register(
      new Counter('fluxgate_webhook_requests_total', 'Webhook requests by provider, type, event and outcome.', ['provider', 'type', 'event', 'outcome']),
    ),
    webhookDuration: registry.register(
      new Histogram('fluxgate_webhook_request_duration_seconds', 'Time to answer a webhook request.', ['provider'], requestBuckets),
    ),
    reconcileRequests: registry.register(
      new Counter('fluxgate_reconcile_requests_total', 'Reconcile requests (patches) by kind and outcome.', ['kind', 'outcome']),
    ),
    reconcileRetries: registry.register(new Counter('fluxgate_reconcile_retries_total', 'Patch retries by kind and reason.', ['kind', 'reason'])),
    reconcileLatency: registry.register(
      new Histogram('fluxgate_reconcile_latency_seconds', 'Time from a webhook being accepted to the patch being acknowledged.', [], latencyBuckets),
    ),
    debounceCoalesced: registry.register(
      new Counter('fluxgate_debounce_coalesced_total', 'Reconcile requests folded into an already pending patch.', []),
    ),
    reconcilePending: registry.register(new Gauge('fluxgate_reconcile_pending', 'Objects with a patch waiting, queued, in flight or backing off.', [])),
    eventsFailed: registry.register(new Counter('fluxgate_kubernetes_events_failed_total', 'Kubernetes Events that could not be written (reconcile requests are not affected), by reason.', ['reason'])),
    configReloads: registry.register(new Counter('fluxgate_config_reloads_total', 'Config reloads by outcome (failure: the new config had problems and the running one kept serving).', ['outcome'])),
  };
  registry.register(processMetrics(startTimeSeconds));
  return metrics;
}
