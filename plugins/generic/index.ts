/** The `generic` provider type: its codec and its sample for `fluxgate send` (fluxgate's own payload, from the kit). */
export { default } from './codec.ts';
export { genericSample as sample } from '../../src/provider-kit/index.ts';
