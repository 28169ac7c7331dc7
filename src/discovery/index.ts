/**
 * Discovery at run time: one informer per watched kind and cluster, feeding an index of which objects follow
 * which repository and ref, so a push reconciles what follows it without a target naming it.
 */
export { DISCOVERED_KINDS, type DiscoveredKind } from './discovered-object.ts';
export { createDiscovery, type Discovery, type DiscoveryOptions, type DiscoveryReporter } from './discovery.ts';
export { type DiscoveredExplanation, explainDiscovered } from './explain.ts';
export { listObjects } from './list-objects.ts';
