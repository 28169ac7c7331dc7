/** The face of src/http/: what the layers above use of it. */
export { createHttpApps, type Readiness } from './app.ts';
export { fitRequestCap } from './fd-limit.ts';
export { listen } from './listen.ts';
export { REFRESH_SECONDS, type ReloadStatus, renderStatusPage } from './status-page.ts';
