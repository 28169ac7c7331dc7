/**
 * The HTTP surface: the webhook listener and the admin listener (status page, API, metrics, probes); it bounds
 * what a request may cost and hands webhook bodies to the pipeline.
 */
export { createHttpApps, type Readiness } from './app.ts';
export { fitRequestCap } from './fd-limit.ts';
export { listen } from './listen.ts';
export { REFRESH_SECONDS, type ReloadStatus, renderStatusPage } from './status-page.ts';
