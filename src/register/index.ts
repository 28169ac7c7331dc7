/** The face of src/register/: what the layers above use of it. */
export { discoveredScopes } from './discovered-scopes.ts';
export { hostFetch, type RateLimitWait } from './host-fetch.ts';
export { HOST_CLIENTS } from './hosts.ts';
export { gatewayPrefix, type RegisterJob, registerJobs } from './jobs.ts';
export { exitCode, renderJson, renderTable, summarize } from './report.ts';
export { syncHooks, type SyncRow } from './sync-hooks.ts';
