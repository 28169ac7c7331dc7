/** The `gitlab` provider type: its codec, its sample for `fluxgate send`, its registration for `fluxgate register` and its commit statuses for following. */
export { default } from './codec.ts';
export { sample } from './sample.ts';
export { registration } from './registration.ts';
export { commitStatus } from './commit-status.ts';
