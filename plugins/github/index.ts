/** The `github` provider type: its codec, its sample for `fluxgate send` and its registration for `fluxgate register`. */
export { default } from './codec.ts';
export { sample } from './sample.ts';
export { registration } from './registration.ts';
