/** The `bitbucket` provider type: its codec, its sample for `fluxgate send` and its commit statuses for following. */
export { default } from './codec.ts';
export { sample } from './sample.ts';
export { commitStatus } from './commit-status.ts';
