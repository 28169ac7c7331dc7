/** The `harbor` provider type: its codec and its sample for `fluxgate send`. */
export { default } from './codec.ts';
export { sample } from './sample.ts';
