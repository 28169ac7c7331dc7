/**
 * Helpers for the following tests against a real kube-apiserver: the test plays the controllers, writing the status
 * subresource as source-controller, kustomize-controller and Argo CD's application controller do; a config with
 * `feedback:` and a provider whose `register` block points at a fake host; the delivery records' followed rows.
 */
import { expect } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import type { TestGateway } from '../support/gateway.ts';
import { resourcePath, type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { eventually, GIT_REPOSITORY, KUSTOMIZATION, REQUESTED_AT } from './support.ts';

export const APPLICATION = { apiVersion: 'argoproj.io/v1alpha1', plural: 'applications' } as const;

/** A random 40-hex commit. */
export function commitSha(): string {
  return randomBytes(20).toString('hex');
}

/** Writes `status` through the status subresource (merge patch), as a controller does. */
export async function writeStatus(cluster: TestCluster, type: { apiVersion: string; plural: string }, namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
  const answer = await cluster.request('PATCH', `${resourcePath(type.apiVersion, type.plural, namespace, name)}/status`, { status }, 'application/merge-patch+json');
  if (answer.status !== 200) throw new Error(`status of ${type.plural} ${namespace}/${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

const ready = (status: 'True' | 'False', reason: string, message: string) => [{ type: 'Ready', status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }];

/** source-controller: waits for fluxgate's request on the GitRepository, handles it and fetches `commit` on `branch`. */
export async function sourceFetched(cluster: TestCluster, namespace: string, name: string, commit: string, branch = 'main'): Promise<string> {
  const requested = await requestedAt(cluster, GIT_REPOSITORY, namespace, name);
  const revision = `${branch}@sha1:${commit}`;
  await writeStatus(cluster, GIT_REPOSITORY, namespace, name, { lastHandledReconcileAt: requested, artifact: { revision, digest: `sha256:${commit}`, lastUpdateTime: '2026-01-01T00:00:00Z' }, conditions: ready('True', 'Succeeded', `stored artifact for revision '${revision}'`) });
  return revision;
}

/** kustomize-controller: `revision` applied (Ready True) or failed (Ready False with `message`). */
export async function kustomizationAt(cluster: TestCluster, namespace: string, name: string, revision: string, failure?: string): Promise<void> {
  const status = failure === undefined
    ? { lastAppliedRevision: revision, lastAttemptedRevision: revision, conditions: ready('True', 'ReconciliationSucceeded', `Applied revision: ${revision}`) }
    : { lastAttemptedRevision: revision, conditions: ready('False', 'BuildFailed', failure) };
  await writeStatus(cluster, KUSTOMIZATION, namespace, name, status);
}

/** The requestedAt fluxgate wrote on the object (waits for it). */
export async function requestedAt(cluster: TestCluster, type: { apiVersion: string; plural: string }, namespace: string, name: string, other?: string): Promise<string> {
  return eventually(`fluxgate's requestedAt on ${namespace}/${name}`, async () => {
    const value = (await cluster.get(type.apiVersion, type.plural, namespace, name))?.metadata?.annotations?.[REQUESTED_AT];
    return value !== undefined && value !== other ? (value as string) : undefined;
  });
}

export function kustomizationOf(namespace: string, name: string, source: string) {
  return { apiVersion: KUSTOMIZATION.apiVersion, kind: 'Kustomization', metadata: { name, namespace }, spec: { interval: '10m', path: `./${name}`, prune: true, sourceRef: { kind: 'GitRepository', name: source } } };
}

export function gitRepositoryOf(namespace: string, name: string, url: string) {
  return { apiVersion: GIT_REPOSITORY.apiVersion, kind: 'GitRepository', metadata: { name, namespace }, spec: { url, interval: '10m', ref: { branch: 'main' } } };
}

/** A config: one provider of `type` whose `register` block points at `apiUrl`, a target with `resources`, following on. */
export function feedbackConfig(options: {
  kubeconfig?: string;
  clusters?: { name: string; kubeconfig: string }[];
  provider: { name: string; type: string; secret: Record<string, string>; register?: Record<string, unknown> };
  repository: string;
  resources: { kind: string; name: string; namespace: string }[];
  feedback?: Record<string, unknown>;
  discovery?: Record<string, unknown>;
}): string {
  return toYaml({
    server: { address: '127.0.0.1:0', shutdownTimeout: '3s', publicUrl: 'https://fluxgate.example.com' },
    kubernetes: options.kubeconfig ? { mode: 'kubeconfig', kubeconfig: options.kubeconfig, requestTimeout: '5s' } : { requestTimeout: '5s' },
    ...(options.clusters ? { clusters: options.clusters } : {}),
    reconcile: { debounce: '100ms', concurrency: 8, retry: { maxAttempts: 3, initialDelay: '100ms', maxDelay: '1s' } },
    state: { store: 'memory' },
    providers: [{ name: options.provider.name, type: options.provider.type, secret: options.provider.secret, ...(options.provider.register ? { register: options.provider.register } : {}) }],
    targets: options.resources.length > 0 ? [{ name: 'app', providers: [options.provider.name], match: { repository: options.repository, branches: ['main'] }, resources: options.resources }] : [],
    feedback: { enabled: true, commitStatus: true, timeout: '10m', ...options.feedback },
    ...(options.discovery ? { discovery: { enabled: true, ...options.discovery } } : {}),
  });
}

export interface FollowedRow {
  object: string;
  cluster?: string;
  via?: string;
  stage: string;
  patchedMs?: number;
  handledMs?: number;
  fetchedMs?: number;
  appliedMs?: number;
  endedMs?: number;
  revision?: string;
  detail?: string;
  health?: string;
}

export interface FollowedRecord {
  deliveryId?: string;
  ticket?: number;
  commit?: string;
  push?: { at: string; from: string };
  followed?: FollowedRow[];
}

/** The recorded delivery with this delivery id, from /api/deliveries/<id>. */
export async function recordOf(gateway: TestGateway, deliveryId: string): Promise<FollowedRecord> {
  const answer = await fetch(`${gateway.adminUrl}/api/deliveries/${encodeURIComponent(deliveryId)}`);
  expect(answer.status).toBe(200);
  return (await answer.json()) as FollowedRecord;
}

/** Waits until every row of `objects` in the delivery's record is at `stage` (rows sorted by cluster and object). */
export async function rowsAt(gateway: TestGateway, deliveryId: string, objects: string[], stage: string): Promise<FollowedRow[]> {
  let last: FollowedRecord | undefined;
  await eventually(`${objects.join(', ')} ${stage}`, async () => {
    last = await recordOf(gateway, deliveryId);
    const rows = (last.followed ?? []).filter((row) => objects.includes(row.cluster ? `${row.cluster}: ${row.object}` : row.object));
    return rows.length === objects.length && rows.every((row) => row.stage === stage);
  }, { timeoutMs: 20_000, describe: () => JSON.stringify(last?.followed) });
  return (last!.followed ?? []).filter((row) => objects.includes(row.cluster ? `${row.cluster}: ${row.object}` : row.object)).sort((x, y) => `${x.cluster}${x.object}`.localeCompare(`${y.cluster}${y.object}`));
}
