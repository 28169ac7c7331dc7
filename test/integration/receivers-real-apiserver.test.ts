/**
 * Integration: the cluster's Flux Receivers served by fluxgate on their own paths, against a REAL kube-apiserver
 * with the minimal Receiver CRD. fluxgate runs as a user bound only to the rules docs/flux-receivers.md lists.
 * Paths are worked out here from the token, name and namespace (sha256), deliveries are signed here, and the
 * results are read back from the API server: requestedAt on the resources, the Receiver's status.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, createHmac } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { BUILT_STRING_LIMIT } from '../../src/receivers/cel-bounds.ts';
import { DELIVERY_TIME_LIMIT_MS } from '../../src/receivers/cel-evaluator.ts';
import { startTestCluster, type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { manualClock, type ManualClock } from '../support/manual-clock.ts';
import type { TestGateway } from '../support/gateway.ts';
import { startTestGateway } from '../support/gateway.ts';
import { fixture } from '../support/provider-fixtures.ts';
import { githubWebhook, gitlabWebhook, post } from '../support/webhooks.ts';
import { GIT_REPOSITORY, KUSTOMIZATION, REQUESTED_AT, RFC3339_NANO, annotationsOf, applyAll, eventually, freshNamespace, gitRepository, kustomization } from './support.ts';

const RECEIVER = { apiVersion: 'notification.toolkit.fluxcd.io/v1', plural: 'receivers' } as const;
const REFRESH_MS = 60_000;

let cluster: TestCluster;
let kubeconfig: string;
let gateway: TestGateway | undefined;

/** The rules docs/flux-receivers.md gives fluxgate for Receivers, plus what it needs to patch GitRepositories and Kustomizations. */
const RULES = [
  { apiGroups: ['notification.toolkit.fluxcd.io'], resources: ['receivers'], verbs: ['list', 'watch'] },
  { apiGroups: ['notification.toolkit.fluxcd.io'], resources: ['receivers/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: ['source.toolkit.fluxcd.io'], resources: ['gitrepositories'], verbs: ['list', 'patch'] },
  { apiGroups: ['kustomize.toolkit.fluxcd.io'], resources: ['kustomizations'], verbs: ['list', 'patch'] },
];

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'fluxgate-receivers-test' }, rules: RULES });
  await cluster.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'fluxgate-receivers-test' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'fluxgate-receivers-test' },
    subjects: [cluster.userSubjects.fluxgate],
  });
  kubeconfig = cluster.writeKubeconfig({ token: cluster.userTokens.fluxgate!, context: 'receivers' });
  await eventually('the binding to take effect', async () => {
    const review = await cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: cluster.userSubjects.fluxgate!.name, groups: ['system:authenticated'], resourceAttributes: { group: '', resource: 'secrets', verb: 'get', namespace: 'default' } },
    });
    return review.body?.status?.allowed === true;
  });
}, 15 * 60_000);

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** The path notification-controller gives a Receiver, worked out here on its own. */
const hashedPath = (token: string, name: string, namespace: string) => `/hook/${createHash('sha256').update(`${token}${name}${namespace}`).digest('hex')}`;

function secret(namespace: string, name: string, token: string) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: { token: Buffer.from(token).toString('base64') } };
}

function receiver(namespace: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: RECEIVER.apiVersion, kind: 'Receiver', metadata: { name, namespace }, spec: { secretRef: { name: 'receiver-token' }, ...spec } };
}

async function startReceiverGateway(namespace: string | undefined, options: { writeStatus?: boolean; clock?: ManualClock } = {}): Promise<TestGateway> {
  const config = toYaml({
    server: { address: '127.0.0.1:0', shutdownTimeout: '3s' },
    kubernetes: { mode: 'kubeconfig', kubeconfig, requestTimeout: '5s' },
    reconcile: { debounce: '100ms', retry: { maxAttempts: 3, initialDelay: '100ms', maxDelay: '1s' } },
    fluxReceivers: { enabled: true, ...(namespace ? { namespaces: [namespace] } : {}), writeStatus: options.writeStatus ?? false, secretRefresh: '1m' },
  });
  return startTestGateway({ config, clock: options.clock });
}

/** A route exists when GET is answered 405 (POST only) rather than 404. */
async function routeState(path: string): Promise<number> {
  return (await fetch(`${gateway!.url}${path}`)).status;
}

const served = (path: string) => eventually(`route ${path.slice(0, 14)}… served`, async () => (await routeState(path)) === 405, { timeoutMs: 15_000 });
const gone = (path: string) => eventually(`route ${path.slice(0, 14)}… gone`, async () => (await routeState(path)) === 404, { timeoutMs: 15_000 });
const requestedAt = (type: { apiVersion: string; plural: string }, namespace: string, name: string) =>
  eventually(`requestedAt on ${name}`, async () => (await annotationsOf(cluster, type, namespace, name))[REQUESTED_AT], { timeoutMs: 15_000 });

function hmacDelivery(token: string, body: string): { body: Uint8Array; headers: Record<string, string> } {
  const bytes = new TextEncoder().encode(body);
  return { body: bytes, headers: { 'content-type': 'application/json', 'x-signature': `sha512=${createHmac('sha512', token).update(bytes).digest('hex')}` } };
}

describe('existing Receivers on their existing paths', () => {
  test('github, gitlab, bitbucket, generic-hmac and generic Receivers: signed deliveries to the hashed paths patch their resources', async () => {
    const ns = await freshNamespace(cluster, 'recv');
    const token = 'a3f1c9e07b5d2468';
    await applyAll(cluster, [
      secret(ns, 'receiver-token', token),
      gitRepository(ns, 'from-github'),
      gitRepository(ns, 'from-gitlab'),
      gitRepository(ns, 'from-bitbucket'),
      gitRepository(ns, 'from-hmac'),
      kustomization(ns, 'web-a', { tier: 'web' }),
      kustomization(ns, 'web-b', { tier: 'web' }),
      receiver(ns, 'github-receiver', { type: 'github', events: ['ping', 'push'], resources: [{ apiVersion: GIT_REPOSITORY.apiVersion, kind: 'GitRepository', name: 'from-github' }] }),
      receiver(ns, 'gitlab-receiver', { type: 'gitlab', events: ['Push Hook'], resources: [{ kind: 'GitRepository', name: 'from-gitlab' }] }),
      receiver(ns, 'bitbucket-receiver', { type: 'bitbucket', events: ['repo:refs_changed'], resources: [{ kind: 'GitRepository', name: 'from-bitbucket' }] }),
      receiver(ns, 'hmac-receiver', { type: 'generic-hmac', resources: [{ kind: 'GitRepository', name: 'from-hmac', namespace: ns }] }),
      receiver(ns, 'generic-receiver', { type: 'generic', resources: [{ apiVersion: KUSTOMIZATION.apiVersion, kind: 'Kustomization', name: '*', matchLabels: { tier: 'web' } }] }),
    ]);
    gateway = await startReceiverGateway(ns);
    const path = (name: string) => hashedPath(token, name, ns);
    for (const name of ['github-receiver', 'gitlab-receiver', 'bitbucket-receiver', 'hmac-receiver', 'generic-receiver']) await served(path(name));

    const accepted = async (response: Response) => expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 202, body: { targets: 1 } });
    await accepted(await post(`${gateway.url}${path('github-receiver')}`, githubWebhook(token)));
    await accepted(await post(`${gateway.url}${path('gitlab-receiver')}`, gitlabWebhook(token)));
    const bitbucket = fixture('bitbucket-server', 'push');
    bitbucket.headers.set('X-Hub-Signature', `sha256=${createHmac('sha256', token).update(bitbucket.body).digest('hex')}`);
    await accepted(await fetch(`${gateway.url}${path('bitbucket-receiver')}`, { method: 'POST', headers: bitbucket.headers, body: bitbucket.body }));
    await accepted(await post(`${gateway.url}${path('hmac-receiver')}`, hmacDelivery(token, '{"ci": "job 42"}')));
    await accepted(await fetch(`${gateway.url}${path('generic-receiver')}`, { method: 'POST' }));

    for (const name of ['from-github', 'from-gitlab', 'from-bitbucket', 'from-hmac']) expect(await requestedAt(GIT_REPOSITORY, ns, name)).toMatch(RFC3339_NANO);
    for (const name of ['web-a', 'web-b']) expect(await requestedAt(KUSTOMIZATION, ns, name)).toMatch(RFC3339_NANO);

    // A wrong signature is refused, and the old Flux answer for a URL nobody serves is still 404.
    expect((await post(`${gateway.url}${path('github-receiver')}`, githubWebhook('not-the-token'))).status).toBe(401);
    expect((await post(`${gateway.url}${hashedPath('other-token', 'github-receiver', ns)}`, githubWebhook(token))).status).toBe(404);
  }, 60_000);

  test('rotating the Secret moves the path at the next refresh: the old path 404s, the new one works', async () => {
    const ns = await freshNamespace(cluster, 'rotate');
    await applyAll(cluster, [secret(ns, 'receiver-token', 'old-token-11'), gitRepository(ns, 'app'), receiver(ns, 'ci', { type: 'generic-hmac', resources: [{ kind: 'GitRepository', name: 'app' }] })]);
    const clock = manualClock(Date.now());
    gateway = await startReceiverGateway(ns, { clock });
    const [before, after] = [hashedPath('old-token-11', 'ci', ns), hashedPath('new-token-22', 'ci', ns)];
    await served(before);

    await cluster.apply(secret(ns, 'receiver-token', 'new-token-22'));
    expect(await routeState(after)).toBe(404); // read again at the next refresh, not before
    await clock.advance(REFRESH_MS);
    await served(after);
    expect(await routeState(before)).toBe(404);
    expect((await post(`${gateway.url}${before}`, hmacDelivery('old-token-11', '{}'))).status).toBe(404);
    const answer = await post(`${gateway.url}${after}`, hmacDelivery('new-token-22', '{}'));
    expect(answer.status).toBe(202);
    expect(await requestedAt(GIT_REPOSITORY, ns, 'app')).toMatch(RFC3339_NANO);
  }, 60_000);

  test('deleting a Receiver makes its path 404', async () => {
    const ns = await freshNamespace(cluster, 'delete');
    await applyAll(cluster, [secret(ns, 'receiver-token', 'token-del'), gitRepository(ns, 'app'), receiver(ns, 'ci', { type: 'generic', resources: [{ kind: 'GitRepository', name: 'app' }] })]);
    gateway = await startReceiverGateway(ns);
    const path = hashedPath('token-del', 'ci', ns);
    await served(path);
    const deleted = await cluster.request('DELETE', `/apis/${RECEIVER.apiVersion}/namespaces/${ns}/receivers/ci`);
    expect(deleted.status).toBe(200);
    await gone(path);
    expect((await fetch(`${gateway.url}${path}`, { method: 'POST' })).status).toBe(404);
  }, 60_000);

  test('a resourceFilter that selects one of two labelled objects patches only that one', async () => {
    const ns = await freshNamespace(cluster, 'filter');
    await applyAll(cluster, [
      secret(ns, 'receiver-token', 'token-filter'),
      gitRepository(ns, 'frontend', { labels: { team: 'web' } }),
      gitRepository(ns, 'backend', { labels: { team: 'web' } }),
      receiver(ns, 'ci', { type: 'generic', resources: [{ kind: 'GitRepository', name: '*', matchLabels: { team: 'web' } }], resourceFilter: 'req.component == res.metadata.name' }),
    ]);
    gateway = await startReceiverGateway(ns);
    const path = hashedPath('token-filter', 'ci', ns);
    await served(path);
    const answer = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"component": "backend"}' });
    expect(answer.status).toBe(202);
    expect(await requestedAt(GIT_REPOSITORY, ns, 'backend')).toMatch(RFC3339_NANO);
    // The delivery log says what happened to the selector: one of the two was selected.
    await eventually('the delivery record', async () => JSON.stringify(await (await fetch(`${gateway!.adminUrl}/api/deliveries`)).json()).includes('selected 1: backend'));
    expect(await annotationsOf(cluster, GIT_REPOSITORY, ns, 'frontend')).not.toHaveProperty([REQUESTED_AT]);
  }, 60_000);

  test('a suspended Receiver answers 503; one whose Secret is missing is listed as not ready with the reason', async () => {
    const ns = await freshNamespace(cluster, 'state');
    await applyAll(cluster, [
      secret(ns, 'receiver-token', 'token-state'),
      gitRepository(ns, 'app'),
      receiver(ns, 'paused', { type: 'generic', suspend: true, resources: [{ kind: 'GitRepository', name: 'app' }] }),
      receiver(ns, 'orphan', { type: 'generic', secretRef: { name: 'no-such-secret' }, resources: [{ kind: 'GitRepository', name: 'app' }] }),
    ]);
    gateway = await startReceiverGateway(ns);
    const paused = hashedPath('token-state', 'paused', ns);
    await served(paused);
    const answer = await fetch(`${gateway.url}${paused}`, { method: 'POST', body: '{}' });
    expect({ status: answer.status, retryAfter: answer.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });
    const page = await eventually('the status page lists both', async () => {
      const html = await (await fetch(gateway!.adminUrl)).text();
      return html.includes(`${ns}/orphan`) && html.includes(`${ns}/paused`) ? html : undefined;
    });
    expect(page).toContain(`Secret ${ns}/no-such-secret not found`);
    expect(page).toContain('suspended (503)');
    expect(page).not.toContain(paused); // the path only shortened
    expect(await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app')).not.toHaveProperty([REQUESTED_AT]);
  }, 60_000);

  test('writeStatus: status.webhookPath and a Ready condition, so flux get receivers tells the truth', async () => {
    const ns = await freshNamespace(cluster, 'status');
    await applyAll(cluster, [
      secret(ns, 'receiver-token', 'token-status'),
      gitRepository(ns, 'app'),
      receiver(ns, 'served', { type: 'github', resources: [{ kind: 'GitRepository', name: 'app' }] }),
      receiver(ns, 'broken', { type: 'github', resources: [{ kind: 'GitRepository', name: 'app' }], resourceFilter: 'res.metadata.name ==' }),
    ]);
    gateway = await startReceiverGateway(ns, { writeStatus: true });
    const status = (name: string) => eventually(`status of ${name}`, async () => (await cluster.get(RECEIVER.apiVersion, RECEIVER.plural, ns, name))?.status?.conditions?.length ? (await cluster.get(RECEIVER.apiVersion, RECEIVER.plural, ns, name)).status : undefined, { timeoutMs: 15_000 });
    expect(await status('served')).toMatchObject({
      webhookPath: hashedPath('token-status', 'served', ns),
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', observedGeneration: 1 }],
    });
    expect(await status('broken')).toMatchObject({
      webhookPath: hashedPath('token-status', 'broken', ns),
      conditions: [{ type: 'Ready', status: 'False', reason: 'InvalidCELExpression', message: expect.stringContaining('resourceFilter: invalid CEL expression') }],
    });
    // The token is nowhere in what was written.
    expect(JSON.stringify(await cluster.get(RECEIVER.apiVersion, RECEIVER.plural, ns, 'served'))).not.toContain('token-status');
  }, 60_000);
});

describe('a resourceFilter is bounded in time and memory', () => {
  /** The delivery log as text, read on the admin port. */
  const deliveryLog = async () => JSON.stringify(await (await fetch(`${gateway!.adminUrl}/api/deliveries`)).json());
  const postJson = (path: string, body: unknown) => fetch(`${gateway!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function filteredReceiver(prefix: string, resourceFilter: string, objects: number): Promise<{ ns: string; path: string; names: string[] }> {
    const ns = await freshNamespace(cluster, prefix);
    const names = Array.from({ length: objects }, (_, index) => `app-${index}`);
    await applyAll(cluster, [
      secret(ns, 'receiver-token', `token-${prefix}`),
      ...names.map((name) => gitRepository(ns, name, { labels: { team: 'web' } })),
      receiver(ns, 'ci', { type: 'generic', resources: [{ kind: 'GitRepository', name: '*', matchLabels: { team: 'web' } }], resourceFilter }),
    ]);
    return { ns, path: hashedPath(`token-${prefix}`, 'ci', ns), names };
  }

  test('join() of 1,000 pieces with a 1 MB separator is stopped at the size bound: nothing patched, the reason in the delivery log', async () => {
    const { ns, path, names } = await filteredReceiver('celsize', "req.a.split('').join(req.b).size() > 0", 3);
    gateway = await startReceiverGateway(ns);
    await served(path);
    const answer = await postJson(path, { a: 'x'.repeat(1000), b: 'y'.repeat(1_000_000) });
    expect(answer.status).toBe(202);
    const reason = `the filter could not decide for this delivery: join() would build a string of more than ${BUILT_STRING_LIMIT} characters`;
    await eventually('the delivery record with the reason', async () => (await deliveryLog()).includes(reason), { timeoutMs: 15_000, describe: deliveryLog });
    for (const name of names) expect(await annotationsOf(cluster, GIT_REPOSITORY, ns, name)).not.toHaveProperty([REQUESTED_AT]);
  }, 60_000);

  test('/healthz on the webhook port answers while a delivery’s filters are evaluated, which are stopped at the time limit', async () => {
    // 33 walks of a 3.5 MB string per object, 20 objects: many seconds of evaluation, unless stopped.
    const slow = Array.from({ length: 33 }, () => 'req.a.size() > 0').join(' && ');
    const { ns, path, names } = await filteredReceiver('celtime', slow, 20);
    const events: string[] = [];
    const base = manualClock(Date.now());
    // The evaluator arms its time limit when it hands a delivery's job to its worker: the evaluation has started.
    const clock: ManualClock = { ...base, setTimer: (callback, delayMs) => (delayMs === DELIVERY_TIME_LIMIT_MS && events.push('evaluating'), base.setTimer(callback, delayMs)) };
    gateway = await startReceiverGateway(ns, { clock });
    await served(path);
    const decided = async () => /could not decide|selected \d+/.test(await deliveryLog());

    expect((await postJson(path, { a: 'x'.repeat(3_500_000) })).status).toBe(202);
    await eventually('the evaluation to start (or end)', async () => events.includes('evaluating') || ((await decided()) && events.push('decided')), { timeoutMs: 15_000 });
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    events.push('healthz');
    if (await decided()) events.push('decided');
    // Past the time limit: the worker is terminated and the delivery fails with the reason.
    await clock.advance(DELIVERY_TIME_LIMIT_MS);
    await eventually('the delivery to be decided', decided, { timeoutMs: 15_000, describe: deliveryLog });
    if (!events.includes('decided')) events.push('decided');
    expect(events).toEqual(['evaluating', 'healthz', 'decided']);
    expect(await deliveryLog()).toContain(`the filter could not decide for this delivery: the evaluation took longer than ${DELIVERY_TIME_LIMIT_MS} ms and was stopped`);
    for (const name of names.slice(0, 3)) expect(await annotationsOf(cluster, GIT_REPOSITORY, ns, name)).not.toHaveProperty([REQUESTED_AT]);
  }, 60_000);
});
