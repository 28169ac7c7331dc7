/**
 * What following keeps of a watched object: the few status fields that say how far a commit got, and for the
 * objects that apply a source (Kustomization, HelmRelease) which source that is. Read once per change of the object,
 * each string cut, so thousands of watched objects cost a few hundred bytes each.
 */
import { cutText } from '../core/index.ts';
import type { WatchedObject } from '../kube/index.ts';

/** A condition as following reads it. */
export interface ReadyCondition {
  status: string;
  reason?: string;
  message?: string;
}

export interface ObjectStatus {
  /** `status.lastHandledReconcileAt`: the last requestedAt the controller acted on. */
  handledAt?: string;
  /** Sources: `status.artifact.revision`. */
  artifact?: string;
  /** Kustomization, HelmRelease: the revisions that are applied once Ready is True. */
  applied: readonly string[];
  /** Kustomization, HelmRelease: the revisions last attempted (a failure is about these). */
  attempted: readonly string[];
  ready?: ReadyCondition;
  /** Argo CD: `status.sync.revision` (and `revisions`). */
  synced: readonly string[];
  /** Argo CD: `status.operationState.phase`, the revision it synced to and its message. */
  operation?: { phase: string; revision?: string; message?: string };
  /** Argo CD: `status.health.status`. */
  health?: string;
  /** An object that applies a source: the source's key (`GitRepository/flux-system/app`). */
  source?: string;
}

/** Messages are kept this long at most (a condition's message can be a whole build log). */
const MESSAGE_CHARACTERS = 512;

const text = (value: unknown, max = 256): string | undefined => (typeof value === 'string' && value !== '' ? cutText(value, max) : undefined);
const texts = (...values: unknown[]): string[] => values.map((value) => text(value)).filter((value): value is string => value !== undefined);

/** The key a source is found by: kind, namespace, name. */
export function sourceKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/**
 * @example
 * statusOf({ …, kind: 'Kustomization', spec: { sourceRef: { kind: 'GitRepository', name: 'app' } },
 *   status: { lastAppliedRevision: 'main@sha1:5c1f…', conditions: [{ type: 'Ready', status: 'True' }] } });
 * // { applied: ['main@sha1:5c1f…'], attempted: [], ready: { status: 'True' }, synced: [], source: 'GitRepository/flux-system/app' }
 */
export function statusOf(object: WatchedObject): ObjectStatus {
  const status = isRecord(object.status) ? object.status : {};
  const spec = isRecord(object.spec) ? object.spec : {};
  const namespace = object.metadata.namespace ?? '';
  const history = Array.isArray(status.history) && isRecord(status.history[0]) ? status.history[0] : {};
  const sync = isRecord(status.sync) ? status.sync : {};
  const operation = isRecord(status.operationState) ? status.operationState : undefined;
  const found: ObjectStatus = {
    applied: texts(status.lastAppliedRevision, ...(object.kind === 'HelmRelease' ? [status.lastAttemptedRevision, status.lastAttemptedRevisionDigest, history.chartVersion, history.ociDigest] : [])),
    attempted: texts(status.lastAttemptedRevision, status.lastAttemptedRevisionDigest),
    synced: texts(sync.revision, ...(Array.isArray(sync.revisions) ? sync.revisions : [])),
  };
  const handledAt = text(status.lastHandledReconcileAt);
  if (handledAt !== undefined) found.handledAt = handledAt;
  const artifact = text(isRecord(status.artifact) ? status.artifact.revision : undefined);
  if (artifact !== undefined) found.artifact = artifact;
  const ready = readyOf(status.conditions);
  if (ready) found.ready = ready;
  if (operation && typeof operation.phase === 'string') found.operation = operationOf(operation);
  const health = text(isRecord(status.health) ? status.health.status : undefined);
  if (health !== undefined) found.health = health;
  const source = sourceOf(object.kind, spec, namespace);
  if (source !== undefined) found.source = source;
  return found;
}

function readyOf(conditions: unknown): ReadyCondition | undefined {
  if (!Array.isArray(conditions)) return undefined;
  const ready = conditions.find((condition) => isRecord(condition) && condition.type === 'Ready');
  if (!isRecord(ready) || typeof ready.status !== 'string') return undefined;
  const reason = text(ready.reason);
  const message = text(ready.message, MESSAGE_CHARACTERS);
  return { status: ready.status, ...(reason !== undefined ? { reason } : {}), ...(message !== undefined ? { message } : {}) };
}

function operationOf(operation: Record<string, any>): NonNullable<ObjectStatus['operation']> {
  const result = isRecord(operation.syncResult) ? operation.syncResult : {};
  const asked = isRecord(operation.operation) && isRecord(operation.operation.sync) ? operation.operation.sync : {};
  const revision = text(result.revision) ?? text(asked.revision);
  const message = text(operation.message, MESSAGE_CHARACTERS);
  return { phase: cutText(operation.phase, 64), ...(revision !== undefined ? { revision } : {}), ...(message !== undefined ? { message } : {}) };
}

/**
 * The source an applying object follows: a Kustomization's `sourceRef`; a HelmRelease's `chartRef`, or its chart's
 * `sourceRef` when the chart is rebuilt per revision (`reconcileStrategy: Revision`, the only way its revision names
 * the commit).
 */
function sourceOf(kind: string, spec: Record<string, any>, namespace: string): string | undefined {
  const refKey = (ref: unknown) => (isRecord(ref) && typeof ref.kind === 'string' && typeof ref.name === 'string' ? sourceKey(ref.kind, typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : namespace, ref.name) : undefined);
  if (kind === 'Kustomization') return refKey(spec.sourceRef);
  if (kind !== 'HelmRelease') return undefined;
  if (spec.chartRef !== undefined) return refKey(spec.chartRef);
  const chart = isRecord(spec.chart) && isRecord(spec.chart.spec) ? spec.chart.spec : undefined;
  if (!chart || chart.reconcileStrategy !== 'Revision') return undefined;
  return refKey(chart.sourceRef);
}

function isRecord(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
