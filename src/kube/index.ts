/**
 * Kubernetes: the client (merge patch, list, watch, discovery of plurals), how a config reaches a cluster,
 * permission checks, informers, and the Events written on patched objects.
 */
export { type KubeApi, type KubeClient, KubeError, labelSelector, type ObjectRef } from './client.ts';
export { connectResolved, type KubeConnection } from './connect.ts';
export { createEventRecorder, type EventRecorder } from './events.ts';
export { failureClass } from './failure-class.ts';
export { createInformer, type Informer, type InformerOptions, type WatchState } from './informer.ts';
export { createInformerPool, type InformerPool } from './informer-pool.ts';
export { findMissingDiscoveryPermissions, findMissingFollowPermissions, findMissingPermissions, type MissingPermission } from './permission-check.ts';
export { KubeSetupError, type KubeTarget, resolveKubernetes } from './target.ts';
export { watchedObject, type WatchedObject } from './watched-object.ts';
