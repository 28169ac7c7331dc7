/**
 * Optional status write-back (`fluxReceivers.writeStatus: true`): `status.webhookPath` and a `Ready` condition
 * with fluxgate's reason, by JSON merge patch on the Receiver's status subresource, so `flux get receivers` and
 * `kubectl wait --for=condition=ready` keep telling the truth once notification-controller no longer serves them.
 * Other conditions are kept; the condition's message shows the path shortened (the path is the credential of
 * unsigned types), `status.webhookPath` holds it in full, as Flux writes it. Off by default: while
 * notification-controller still runs it owns this status, and two writers would flap.
 */
import type { KubeApi } from '../kube/index.ts';
import { RECEIVER_API_VERSION, RECEIVER_KIND } from './receiver-spec.ts';

export interface DesiredStatus {
  /** The full path, or '' when there is none (Flux clears it when the token is missing). */
  webhookPath: string;
  ready: boolean;
  /** The condition's reason: `Succeeded`, or why not (`TokenNotFound`, `InvalidCELExpression`, …). */
  reason: string;
  message: string;
  generation?: number;
}

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/**
 * The merge patch that makes `current` (the Receiver's `status`) say `desired`, or undefined when it already does.
 *
 * @example
 * statusPatch({}, { webhookPath: '/hook/5ad6…', ready: true, reason: 'Succeeded', message: 'Receiver served by fluxgate at /hook/5ad6c3…', generation: 2 }, new Date());
 * // { status: { webhookPath: '/hook/5ad6…', observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', … }] } }
 */
export function statusPatch(current: unknown, desired: DesiredStatus, now: Date): { status: Record<string, unknown> } | undefined {
  const status = (typeof current === 'object' && current !== null ? current : {}) as { webhookPath?: unknown; conditions?: unknown; observedGeneration?: unknown };
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as Condition[];
  const previous = conditions.find((condition) => condition?.type === 'Ready');
  const state = desired.ready ? 'True' : 'False';
  const generation = desired.generation !== undefined ? { observedGeneration: desired.generation } : {};
  const same =
    status.webhookPath === desired.webhookPath &&
    previous?.status === state &&
    previous.reason === desired.reason &&
    previous.message === desired.message &&
    (desired.generation === undefined || (previous.observedGeneration === desired.generation && status.observedGeneration === desired.generation));
  if (same) return undefined;
  const ready: Condition = {
    type: 'Ready',
    status: state,
    reason: desired.reason,
    message: desired.message,
    ...generation,
    // Kubernetes conditions change their transition time only when their status changes.
    lastTransitionTime: previous?.status === state && previous.lastTransitionTime ? previous.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  return {
    status: {
      webhookPath: desired.webhookPath,
      ...generation,
      conditions: [...conditions.filter((condition) => condition?.type !== 'Ready'), ready],
    },
  };
}

/** Sends the patch to the Receiver's status subresource (RBAC: patch on receivers/status). */
export async function writeStatus(api: KubeApi, namespace: string, name: string, patch: { status: Record<string, unknown> }, signal: AbortSignal): Promise<void> {
  const collection = await api.collectionPath(RECEIVER_API_VERSION, RECEIVER_KIND, namespace);
  await api.request('PATCH', `${collection}/${encodeURIComponent(name)}/status`, { body: JSON.stringify(patch), contentType: 'application/merge-patch+json', signal, wantBody: false });
}
