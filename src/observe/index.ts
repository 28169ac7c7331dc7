/**
 * The observers: metrics, log lines and delivery-log entries from the reports of the pipeline, reconcile,
 * discovery and the journal. Write-only: nothing here is read back by the layers below.
 */
export { eventFailures } from './event-failures.ts';
export { createFollowReporter } from './follow-reporter.ts';
export { createJournalReporter, createReplicaReporter } from './journal-reporter.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { type ClusterReconcileReporter, createDiscoveryReporter, createReconcileReporter, createWebhookReporter } from './reporters.ts';
export { createUnknownRoutes, type UnknownRoutes } from './unknown-routes.ts';
export { agentMetrics, edgeMetrics } from './relay-metrics.ts';
export { createAgentReporter, createEdgeReporter } from './relay-reporters.ts';
