/**
 * The part of a Kubernetes object a watch keeps: identity, labels, annotations, spec, status and data.
 * Everything else (managedFields above all, often most of an object's bytes) is dropped as it arrives, so
 * thousands of watched objects cost what fluxgate reads of them.
 */

export interface WatchedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  status?: any;
  data?: Record<string, string>;
}

/**
 * The kept part of `raw` (an item of a list or the object of a watch event); `undefined` when it has no
 * name. List items may omit apiVersion and kind: the watched ones are used then.
 *
 * @example
 * watchedObject({ metadata: { name: 'app', namespace: 'flux-system', managedFields: [] }, spec: {} }, 'source.toolkit.fluxcd.io/v1', 'GitRepository');
 * // { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'app', namespace: 'flux-system' }, spec: {} }
 */
export function watchedObject(raw: any, apiVersion: string, kind: string): WatchedObject | undefined {
  const meta = raw?.metadata;
  if (typeof meta?.name !== 'string') return undefined;
  const metadata: WatchedObject['metadata'] = { name: meta.name };
  if (typeof meta.namespace === 'string') metadata.namespace = meta.namespace;
  if (typeof meta.uid === 'string') metadata.uid = meta.uid;
  if (typeof meta.resourceVersion === 'string') metadata.resourceVersion = meta.resourceVersion;
  if (typeof meta.generation === 'number') metadata.generation = meta.generation;
  if (isRecord(meta.labels)) metadata.labels = meta.labels;
  if (isRecord(meta.annotations)) metadata.annotations = meta.annotations;
  const object: WatchedObject = { apiVersion: typeof raw.apiVersion === 'string' ? raw.apiVersion : apiVersion, kind: typeof raw.kind === 'string' ? raw.kind : kind, metadata };
  if (raw.spec !== undefined) object.spec = raw.spec;
  if (raw.status !== undefined) object.status = raw.status;
  if (isRecord(raw.data)) object.data = raw.data;
  return object;
}

function isRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
