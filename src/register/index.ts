/**
 * Webhook registration on Git hosts (`fluxgate register`): the plan, the jobs, in line with the config.
 */
export { discoveredScopes } from './discovered-scopes.ts';
export { hostFetch, type RateLimitWait, rateLimitWait } from './host-fetch.ts';
export { gatewayPrefix, type RegisterJob, registerJobs } from './jobs.ts';
export { exitCode, renderJson, renderTable, summarize } from './report.ts';
export { syncHooks, type SyncRow } from './sync-hooks.ts';
