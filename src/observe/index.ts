/** The face of src/observe/: what the layers above use of it. */
export { eventFailures } from './event-failures.ts';
export { createJournalReporter } from './journal-reporter.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { type ClusterReconcileReporter, createDiscoveryReporter, createReconcileReporter, createWebhookReporter } from './reporters.ts';
export { createUnknownRoutes } from './unknown-routes.ts';
