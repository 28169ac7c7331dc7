/** The face of src/discovery/: what the layers above use of it. */
export { DISCOVERED_KINDS, type DiscoveredKind } from './discovered-object.ts';
export { createDiscovery, type Discovery, type DiscoveryOptions, type DiscoveryReporter } from './discovery.ts';
export { type DiscoveredExplanation, explainDiscovered } from './explain.ts';
export { listObjects } from './list-objects.ts';
