/**
 * Integration: the RBAC that fluxgate ships (deploy/rbac/clusterrole.yaml, bound to the ServiceAccount by the
 * in-cluster install as `kubectl kustomize deploy` renders it), enforced by a REAL kube-apiserver.
 * The ClusterRole must be enough for every kind fluxgate reconciles (named objects and matchLabels) and no
 * broader: exactly `list` and `patch`, no `get`, no other resources, no subresources.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderKustomization } from '../support/kubectl.ts';
import { resourcePath, startTestCluster, type RbacSubject, type TestCluster } from '../support/kube-apiserver/cluster.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  GIT_REPOSITORY, KUSTOMIZATION, REQUESTED_AT, RFC3339_NANO,
  annotationsOf, applyAll, eventually, freshNamespace, gatewayConfig, gitRepository, kustomization, metricValue,
  metricsText, outcomeReaches, push, startGateway,
} from './support.ts';

const DEPLOY = join(import.meta.dir, '..', '..', 'deploy');
const RBAC_FILE = join(DEPLOY, 'rbac', 'clusterrole.yaml');
const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'];
const manifests: any[] = renderKustomization(DEPLOY).filter((m) => RBAC_KINDS.includes(m.kind));
const byKind = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  if (found.length !== 1) throw new Error(`deploy/: expected exactly one ${kind}, found ${found.length}`);
  return found[0];
};
const clusterRole = byKind('ClusterRole');
const serviceAccount = byKind('ServiceAccount');
const shippedBinding = byKind('ClusterRoleBinding');

/** Every kind fluxgate reconciles by default: apiVersion, kind, plural, and a minimal valid spec. */
const RECONCILED_KINDS = [
  ['source.toolkit.fluxcd.io/v1', 'GitRepository', 'gitrepositories'],
  ['source.toolkit.fluxcd.io/v1', 'OCIRepository', 'ocirepositories'],
  ['source.toolkit.fluxcd.io/v1', 'HelmRepository', 'helmrepositories'],
  ['source.toolkit.fluxcd.io/v1', 'Bucket', 'buckets'],
  ['source.toolkit.fluxcd.io/v1', 'HelmChart', 'helmcharts'],
  ['source.toolkit.fluxcd.io/v1', 'ExternalArtifact', 'externalartifacts'],
  ['kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'kustomizations'],
  ['helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'helmreleases'],
  ['image.toolkit.fluxcd.io/v1', 'ImageRepository', 'imagerepositories'],
  ['image.toolkit.fluxcd.io/v1', 'ImagePolicy', 'imagepolicies'],
  ['image.toolkit.fluxcd.io/v1', 'ImageUpdateAutomation', 'imageupdateautomations'],
  ['argoproj.io/v1alpha1', 'Application', 'applications'],
] as const;

const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const NEEDED_VERBS = ['list', 'patch'];
/** Besides the reconciled kinds: the Events fluxgate writes on what it patched (create one, then add to its series). */
const EVENT_GRANTS = ['events.k8s.io/events:create', 'events.k8s.io/events:patch'];

let cluster: TestCluster;
let gateway: TestGateway | undefined;
/** kubeconfig for user 'fluxgate', bound ONLY to the shipped ClusterRole. */
let roleKubeconfig: string;

/** A fetch to the real API server as a given token (not the admin helper). */
async function as(token: string, method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(cluster.server + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    tls: { ca: cluster.caPem },
  } as RequestInit);
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** The user name and groups the API server sees for an RBAC subject (for SubjectAccessReviews). */
function identity(subject: RbacSubject): { user: string; groups: string[] } {
  if (subject.kind === 'ServiceAccount') {
    return { user: `system:serviceaccount:${subject.namespace}:${subject.name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${subject.namespace}`, 'system:authenticated'] };
  }
  return { user: subject.name, groups: ['system:authenticated'] };
}

async function allowed(subject: RbacSubject, attributes: Record<string, string>): Promise<boolean> {
  const res = await cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { ...identity(subject), resourceAttributes: attributes },
  });
  if (res.status !== 201) throw new Error(`SubjectAccessReview: HTTP ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.status.allowed === true;
}

beforeAll(async () => {
  cluster = await startTestCluster({ users: ['scoped'] });
  // The shipped ClusterRole, bound (by a test-only ClusterRoleBinding) to the test user 'fluxgate'.
  await cluster.apply(clusterRole);
  await cluster.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'fluxgate-reconcile-requester-test-user' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole.metadata.name },
    subjects: [cluster.userSubjects.fluxgate],
  });
  roleKubeconfig = cluster.writeKubeconfig({ token: cluster.userTokens.fluxgate!, context: 'fluxgate-role' });
  // RBAC changes reach the authorizer through an informer: wait until the binding is in effect.
  await eventually('the ClusterRoleBinding to take effect', () => allowed(cluster.userSubjects.fluxgate!, { group: 'source.toolkit.fluxcd.io', resource: 'gitrepositories', verb: 'patch', namespace: 'default' }));
}, 15 * 60_000);

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('deploy/rbac (as the in-cluster install binds it)', () => {
  test('ships a ServiceAccount flux-system/fluxgate bound cluster-wide to the ClusterRole, with only list and patch (and Events)', () => {
    expect(serviceAccount.metadata).toMatchObject({ name: 'fluxgate', namespace: 'flux-system' });
    expect(clusterRole.metadata.name).toBe('fluxgate-reconcile-requester');
    expect(shippedBinding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'fluxgate-reconcile-requester' });
    expect(shippedBinding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'fluxgate', namespace: 'flux-system' }]);
    // The rules, flattened: exactly the reconciled kinds × [list, patch]; no wildcards, no non-resource URLs.
    const grants = clusterRole.rules.flatMap((rule: any) => {
      expect(rule.nonResourceURLs).toBeUndefined();
      expect(rule.resourceNames).toBeUndefined();
      return rule.apiGroups.flatMap((group: string) => rule.resources.flatMap((resource: string) => rule.verbs.map((verb: string) => `${group}/${resource}:${verb}`)));
    });
    const expected = [...RECONCILED_KINDS.flatMap(([apiVersion, , plural]) => NEEDED_VERBS.map((verb) => `${apiVersion.split('/')[0]}/${plural}:${verb}`)), ...EVENT_GRANTS];
    expect(grants.sort()).toEqual(expected.sort());
    // Each verb is explained in a comment, and so is the namespace-scoped alternative.
    const text = readFileSync(RBAC_FILE, 'utf8');
    for (const word of ['patch', 'list', 'get', 'system:discovery', 'RoleBinding']) expect(text).toMatch(new RegExp(`#.*${word}`));
  });

  test('the shipped manifests apply as they are, and the ServiceAccount token they bind can patch', async () => {
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: serviceAccount.metadata.namespace } });
    for (const manifest of manifests) await cluster.apply(manifest);
    const subject: RbacSubject = { kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: serviceAccount.metadata.namespace };
    await eventually('the shipped ClusterRoleBinding to take effect', () => allowed(subject, { group: 'kustomize.toolkit.fluxcd.io', resource: 'kustomizations', verb: 'list', namespace: 'default' }));

    // A real token for the ServiceAccount (TokenRequest API), then a real webhook → patch with it.
    const tokenRequest = await cluster.request('POST', `${resourcePath('v1', 'serviceaccounts', subject.namespace, subject.name)}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    expect(tokenRequest.status).toBe(201);
    const ns = await freshNamespace(cluster);
    await cluster.apply(gitRepository(ns, 'app'));
    const kubeconfig = cluster.writeKubeconfig({ token: tokenRequest.body.status.token, context: 'shipped-sa' });
    gateway = await startGateway(gatewayConfig({ kubeconfig, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }));
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200); // discovery is allowed without a rule
    await push(gateway);
    await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    expect((await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT]).toMatch(RFC3339_NANO);
  }, 30_000);
});

describe('a token bound only to the shipped ClusterRole', () => {
  test('patches every kind fluxgate reconciles, by name and by labels (list)', async () => {
    const ns = await freshNamespace(cluster);
    await applyAll(cluster, [
      ...RECONCILED_KINDS.map(([apiVersion, kind]) => ({ apiVersion, kind, metadata: { name: 'one', namespace: ns }, spec: {} })),
      gitRepository(ns, 'app'),
      kustomization(ns, 'web', { app: 'my-app' }),
      kustomization(ns, 'worker', { app: 'my-app' }),
      kustomization(ns, 'unlabelled'),
    ]);
    gateway = await startGateway(gatewayConfig({
      kubeconfig: roleKubeconfig,
      resources: [
        ...RECONCILED_KINDS.map(([, kind]) => ({ kind, name: 'one', namespace: ns })),
        { kind: 'GitRepository', name: 'app', namespace: ns },
        { kind: 'Kustomization', namespace: ns, matchLabels: { app: 'my-app' } },
      ],
    }));
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
    await eventually('the start-up permission check', () => gateway!.log.lines.some((l) => l.msg === 'kubernetes permissions checked'));
    expect(gateway.log.lines.find((l) => l.msg === 'kubernetes permissions checked')).toMatchObject({ missing: 0 });
    await push(gateway);

    await outcomeReaches(gateway, 'GitRepository', 'success', 2);
    await outcomeReaches(gateway, 'Kustomization', 'success', 3);
    for (const [, kind] of RECONCILED_KINDS) {
      if (kind === 'GitRepository' || kind === 'Kustomization') continue;
      await outcomeReaches(gateway, kind, 'success', 1);
    }
    const metrics = await metricsText(gateway);
    for (const outcome of ['forbidden', 'failed', 'unauthorized', 'not_found']) expect(metrics).not.toContain(`outcome="${outcome}"`);

    for (const [apiVersion, kind, plural] of RECONCILED_KINDS) {
      const annotations = await annotationsOf(cluster, { apiVersion, plural }, ns, 'one');
      const expected: Record<string, unknown> = kind === 'Application' ? { 'argocd.argoproj.io/refresh': 'normal' } : { [REQUESTED_AT]: expect.stringMatching(RFC3339_NANO) };
      expect({ kind, annotations: annotations as Record<string, unknown> }).toEqual({ kind, annotations: expected });
    }
    expect((await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT]).toMatch(RFC3339_NANO);
    for (const name of ['web', 'worker']) expect((await annotationsOf(cluster, KUSTOMIZATION, ns, name))[REQUESTED_AT]).toMatch(RFC3339_NANO);
    expect(await annotationsOf(cluster, KUSTOMIZATION, ns, 'unlabelled')).not.toHaveProperty([REQUESTED_AT]);
  }, 30_000);

  test('a kind outside the role (a ConfigMap) is refused with 403: logged, counted as forbidden, not retried', async () => {
    const ns = await freshNamespace(cluster);
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { a: 'b' } });
    await cluster.apply(gitRepository(ns, 'app'));
    gateway = await startGateway(gatewayConfig({
      kubeconfig: roleKubeconfig,
      resources: [
        { kind: 'ConfigMap', apiVersion: 'v1', annotation: 'example.com/refresh', name: 'settings', namespace: ns },
        { kind: 'GitRepository', name: 'app', namespace: ns },
      ],
    }));
    await push(gateway);
    await outcomeReaches(gateway, 'ConfigMap', 'forbidden', 1);
    await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    const metrics = await metricsText(gateway);

    const failure = gateway.log.lines.find((l) => l.msg === 'patch failed');
    expect(failure).toMatchObject({ level: 'error', object: `ConfigMap ${ns}/settings`, outcome: 'forbidden', attempts: 1 });
    expect(String(failure?.error)).toContain('403 Forbidden');
    expect(String(failure?.error)).toContain('cannot patch resource "configmaps"');
    expect(metrics).not.toContain('fluxgate_reconcile_retries_total{kind="ConfigMap"');
    expect(metricValue(metrics, 'fluxgate_reconcile_pending')).toBe(0);
    const configMap = await cluster.get('v1', 'configmaps', ns, 'settings');
    expect(configMap.metadata.annotations ?? {}).not.toHaveProperty(['example.com/refresh']);
    // The same gateway's GitRepository patch went through: the 403 is about the kind, not the token.
    expect((await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT]).toMatch(RFC3339_NANO);
  }, 30_000);

  test('is no broader than needed: no get/watch/create/update/delete, no status, no other resources', async () => {
    const ns = await freshNamespace(cluster);
    await cluster.apply(gitRepository(ns, 'app'));
    await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'credentials', namespace: ns }, stringData: { password: 'hunter2' } });
    const token = cluster.userTokens.fluxgate!;
    const repo = resourcePath(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns, 'app');

    // Real requests with the token.
    expect((await as(token, 'DELETE', repo)).status).toBe(403);
    expect((await as(token, 'GET', repo)).status).toBe(403);
    expect((await as(token, 'GET', resourcePath('v1', 'secrets', ns, 'credentials'))).status).toBe(403);
    expect((await as(token, 'GET', resourcePath('v1', 'secrets', ns))).status).toBe(403);
    expect((await as(token, 'PATCH', `${repo}/status`, { status: { conditions: [] } }, 'application/merge-patch+json')).status).toBe(403);
    expect((await as(token, 'POST', resourcePath(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns), gitRepository(ns, 'new'))).status).toBe(403);
    expect(await cluster.get(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns, 'app')).not.toBeNull();
    // ... while what fluxgate does is allowed.
    expect((await as(token, 'GET', `${resourcePath(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns)}?labelSelector=app%3Dx`)).status).toBe(200);
    expect((await as(token, 'PATCH', repo, { metadata: { annotations: { [REQUESTED_AT]: 'by-hand' } } }, 'application/merge-patch+json')).status).toBe(200);

    // The full matrix, asked of the authorizer: for every reconciled resource exactly list and patch.
    const subject = cluster.userSubjects.fluxgate!;
    const matrix: string[] = [];
    for (const [apiVersion, , plural] of RECONCILED_KINDS) {
      const group = apiVersion.split('/')[0]!;
      for (const verb of ALL_VERBS) if (await allowed(subject, { group, resource: plural, verb, namespace: ns })) matrix.push(`${plural}:${verb}`);
      for (const verb of ['get', 'patch', 'update']) {
        if (await allowed(subject, { group, resource: plural, subresource: 'status', verb, namespace: ns })) matrix.push(`${plural}/status:${verb}`);
      }
    }
    expect(matrix.sort()).toEqual(RECONCILED_KINDS.flatMap(([, , plural]) => NEEDED_VERBS.map((verb) => `${plural}:${verb}`)).sort());
    for (const verb of ALL_VERBS) {
      const wanted = EVENT_GRANTS.includes(`events.k8s.io/events:${verb}`);
      expect({ events: verb, allowed: await allowed(subject, { group: 'events.k8s.io', resource: 'events', verb, namespace: ns }) }).toEqual({ events: verb, allowed: wanted });
    }
    for (const [group, resource] of [['', 'secrets'], ['', 'configmaps'], ['', 'pods'], ['apps', 'deployments'], ['argoproj.io', 'appprojects'], ['rbac.authorization.k8s.io', 'clusterroles']] as const) {
      for (const verb of ALL_VERBS) expect({ resource, verb, allowed: await allowed(subject, { group, resource, verb, namespace: ns }) }).toEqual({ resource, verb, allowed: false });
    }
  }, 30_000);

  test('without the role the same patch is forbidden (control), and a RoleBinding scopes it to one namespace', async () => {
    const inScope = await freshNamespace(cluster, 'in');
    const outOfScope = await freshNamespace(cluster, 'out');
    await applyAll(cluster, [gitRepository(inScope, 'app'), gitRepository(outOfScope, 'app')]);

    // 'nobody' has no binding at all.
    const nobody = cluster.writeKubeconfig({ token: cluster.userTokens.nobody!, context: 'nobody' });
    gateway = await startGateway(gatewayConfig({ kubeconfig: nobody, resources: [{ kind: 'GitRepository', name: 'app', namespace: inScope }] }));
    await push(gateway);
    await outcomeReaches(gateway, 'GitRepository', 'forbidden', 1);
    await gateway.stop();
    gateway = undefined;

    // 'scoped' gets the ClusterRole through a RoleBinding in one namespace only (as the file's comment suggests).
    await cluster.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'fluxgate-reconcile-requester', namespace: inScope },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole.metadata.name },
      subjects: [cluster.userSubjects.scoped],
    });
    await eventually('the RoleBinding to take effect', () => allowed(cluster.userSubjects.scoped!, { group: 'source.toolkit.fluxcd.io', resource: 'gitrepositories', verb: 'patch', namespace: inScope }));
    const scoped = cluster.writeKubeconfig({ token: cluster.userTokens.scoped!, context: 'scoped' });
    gateway = await startGateway(gatewayConfig({
      kubeconfig: scoped,
      resources: [
        { kind: 'GitRepository', name: 'app', namespace: inScope },
        { kind: 'GitRepository', name: 'app', namespace: outOfScope },
      ],
    }));
    // Start-up already says which configured object the credentials cannot patch, before any push.
    await eventually('the start-up permission check', () => gateway!.log.lines.some((l) => l.msg === 'kubernetes permissions checked'));
    const warnings = gateway.log.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('the Kubernetes credentials may not'));
    expect(warnings.map((l) => l.msg)).toEqual([
      `the Kubernetes credentials may not patch GitRepository in ${outOfScope}: reconcile requests for it will fail with 403`,
      `the Kubernetes credentials may not create Event in ${outOfScope}: no Events will show why objects reconciled (kubernetes.events: false silences this)`,
    ]);
    await push(gateway);
    await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    await outcomeReaches(gateway, 'GitRepository', 'forbidden', 1);
    expect((await annotationsOf(cluster, GIT_REPOSITORY, inScope, 'app'))[REQUESTED_AT]).toMatch(RFC3339_NANO);
    expect(await annotationsOf(cluster, GIT_REPOSITORY, outOfScope, 'app')).not.toHaveProperty([REQUESTED_AT]);
    expect(gateway.log.lines.find((l) => l.msg === 'patch failed')).toMatchObject({ object: `GitRepository ${outOfScope}/app`, outcome: 'forbidden' });
  }, 30_000);
});
