/**
 * Integration: fluxgate → fault proxy (test/support/fault-proxy.ts) → REAL kube-apiserver. The proxy injects
 * 429 + Retry-After, 503, answers slower than kubernetes.requestTimeout and TCP resets, and lets us watch the
 * PATCHes on the wire: how many, with which Content-Type and body, and how many at once.
 */
import type { Clock } from '../../src/core/clock.ts';
import { manualClock } from '../support/manual-clock.ts';
import { afterEach, describe, expect, test } from 'bun:test';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { startFaultProxy, type Fault, type FaultProxy, type ProxiedRequest } from '../support/fault-proxy.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  GIT_REPOSITORY, KUSTOMIZATION, REQUESTED_AT, RFC3339_NANO,
  annotationsOf, applyAll, eventually, freshNamespace, gatewayConfig, gitRepository, kustomization, metricValue,
  metricsText, outcomeReaches, push, series, startGateway, type ResourceEntry,
} from './support.ts';

let cluster: TestCluster;
let proxy: FaultProxy | undefined;
let gateway: TestGateway | undefined;

clusterForFile((started) => void (cluster = started));

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await proxy?.stop();
  proxy = undefined;
}, 30_000);


/** A proxy in front of the cluster and a gateway talking to the cluster through it (as admin). */
async function startThroughProxy(options: { resources: ResourceEntry[]; concurrency?: number; requestTimeout?: string; debounce?: string }, clock?: Clock) {
  proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
  gateway = await startGateway(gatewayConfig({ kubeconfig: 'kubeconfig.yaml', ...options }), { 'kubeconfig.yaml': proxy.kubeconfig({ token: cluster.adminToken }) }, clock);
  return { proxy, gateway };
}

const patchesOf = (p: FaultProxy, pathPart: string) => p.requests.filter((r) => r.method === 'PATCH' && r.path.includes(pathPart));
/** Reconcile patches only: an Event about a patched object is patched too (its series count). */
const isReconcilePatch = (r: { method: string; path: string }) => r.method === 'PATCH' && !r.path.includes('/events.k8s.io/');
const retries = (metrics: string, kind: string, reason: string) => metricValue(metrics, 'fluxgate_reconcile_retries_total', `{kind="${kind}",reason="${reason}"}`);

/** Every PATCH is a JSON merge patch of exactly one annotation; returns its value. */
function annotationValue(request: ProxiedRequest, key = REQUESTED_AT): string {
  expect(request.contentType).toBe('application/merge-patch+json');
  const body = JSON.parse(request.body);
  expect(Object.keys(body)).toEqual(['metadata']);
  expect(Object.keys(body.metadata)).toEqual(['annotations']);
  expect(Object.keys(body.metadata.annotations)).toEqual([key]);
  return body.metadata.annotations[key];
}

describe('fan-out with bounded concurrency', () => {
  test('one push reaches 200 Kustomizations; never more than reconcile.concurrency (4) PATCHes in flight', async () => {
    const ns = await freshNamespace(cluster);
    const names = Array.from({ length: 200 }, (_, i) => `app-${String(i).padStart(3, '0')}`);
    await applyAll(cluster, [...names.map((name) => kustomization(ns, name, { team: 'platform' })), kustomization(ns, 'not-selected', { team: 'other' })]);
    const { proxy, gateway } = await startThroughProxy({ concurrency: 4, resources: [{ kind: 'Kustomization', namespace: ns, matchLabels: { team: 'platform' } }] });
    // Every PATCH waits 50 ms at the proxy before going on to the API server: plenty of time to overlap.
    proxy.injectFaults({ method: 'PATCH', path: `/namespaces/${ns}/kustomizations/` }, Array.from({ length: 200 }, (): Fault => ({ slow: 50 })));

    await push(gateway);
    const metrics = await outcomeReaches(gateway, 'Kustomization', 'success', 200, 60_000);

    const patches = patchesOf(proxy, `/namespaces/${ns}/kustomizations/`);
    expect(patches).toHaveLength(200); // exactly one per object: nothing lost, nothing doubled
    expect(new Set(patches.map((p) => p.path.split('/').pop())).size).toBe(200);
    for (const p of patches) expect(p.status).toBe(200);
    const values = patches.map((p) => annotationValue(p));
    for (const v of values) expect(v).toMatch(RFC3339_NANO);
    const inFlight = proxy.maxConcurrent(isReconcilePatch);
    expect(inFlight).toBeLessThanOrEqual(4);
    expect(inFlight).toBeGreaterThan(1);
    // One list for the selector (with the label selector on the query), then the patches.
    const lists = proxy.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${ns}/kustomizations?`));
    expect(lists).toHaveLength(1);
    expect(new URL(lists[0]!.path, 'https://x').searchParams.get('labelSelector')).toBe('team=platform');

    // Read back from the API server: all 200 carry the annotation that was sent to them; the other one none.
    const list = await cluster.request('GET', `/apis/${KUSTOMIZATION.apiVersion}/namespaces/${ns}/kustomizations`);
    const annotated = new Map<string, string | undefined>(list.body.items.map((o: any) => [o.metadata.name, o.metadata.annotations?.[REQUESTED_AT]]));
    const sent = new Map(patches.map((p, i) => [p.path.split('/').pop()!, values[i]]));
    for (const name of names) expect({ name, value: annotated.get(name) }).toEqual({ name, value: sent.get(name) });
    expect(annotated.get('not-selected')).toBeUndefined();
    expect(metrics).not.toContain('fluxgate_reconcile_retries_total{');
  }, 90_000);
});

describe('API server faults: every accepted webhook still ends in its patch', () => {
  async function oneGitRepository(faults: Fault[], options: { requestTimeout?: string } = {}) {
    const ns = await freshNamespace(cluster);
    await cluster.apply(gitRepository(ns, 'app'));
    const started = await startThroughProxy({ ...options, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] });
    started.proxy.injectFaults({ method: 'PATCH', path: `/namespaces/${ns}/gitrepositories/app` }, faults);
    return { ns, ...started };
  }

  /** The object ends annotated with the value of the last PATCH, which was the same for every attempt. */
  async function expectPatchedOnce(ns: string, p: FaultProxy, attempts: number) {
    const patches = patchesOf(p, `/namespaces/${ns}/gitrepositories/app`);
    expect(patches).toHaveLength(attempts);
    const values = new Set(patches.map((r) => annotationValue(r)));
    expect(values.size).toBe(1); // one reconcile request, retried: one value
    const [value] = values;
    expect(value).toMatch(RFC3339_NANO);
    expect((await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT]).toBe(value!);
    expect(patches.at(-1)!.status).toBe(200);
    expect(patches.at(-1)!.fault).toBeUndefined();
    return patches;
  }

  test('429 with Retry-After: 1 → waits at least a second, then patches; counted as throttled', async () => {
    const { ns, proxy, gateway } = await oneGitRepository([{ status: 429, retryAfter: '1' }]);
    await push(gateway);
    const metrics = await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    const [throttled, retried] = await expectPatchedOnce(ns, proxy, 2);
    // Backoff alone would be ~75 ms (initialDelay 100ms with jitter); Retry-After makes it a second.
    expect(retried!.at - throttled!.answeredAt!).toBeGreaterThanOrEqual(950);
    expect(retries(metrics, 'GitRepository', 'throttled')).toBe(1);
    expect(series(metrics, 'fluxgate_reconcile_retries_total')).toEqual(['{kind="GitRepository",reason="throttled"} 1']);
    expect(gateway.log.lines.find((l) => l.msg === 'patch failed, retrying')).toMatchObject({ object: `GitRepository ${ns}/app`, reason: 'throttled', attempt: 1 });
    expect(gateway.log.lines.find((l) => l.msg === 'reconcile requested')).toMatchObject({ object: `GitRepository ${ns}/app`, attempts: 2 });
  }, 30_000);

  test('503 twice → two server_error retries, then success', async () => {
    const { ns, proxy, gateway } = await oneGitRepository([{ status: 503 }, { status: 503 }]);
    await push(gateway);
    const metrics = await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    await expectPatchedOnce(ns, proxy, 3);
    expect(series(metrics, 'fluxgate_reconcile_retries_total')).toEqual(['{kind="GitRepository",reason="server_error"} 2']);
    const logged = gateway.log.lines.filter((l) => l.msg === 'patch failed, retrying');
    expect(logged.map((l) => l.attempt)).toEqual([1, 2]);
    expect(String(logged[0]!.error)).toContain('503');
  }, 30_000);

  test('an answer slower than kubernetes.requestTimeout (300ms) → timeout retry, then success', async () => {
    const { ns, proxy, gateway } = await oneGitRepository([{ slow: 1500 }], { requestTimeout: '300ms' });
    await push(gateway);
    const metrics = await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    // The retry was sent while the slow attempt was still held at the proxy: the client gave up at 300 ms.
    const patches = patchesOf(proxy, `/namespaces/${ns}/gitrepositories/app`);
    expect(patches).toHaveLength(2);
    expect(patches[1]!.at - patches[0]!.at).toBeLessThan(1500);
    expect(patches[1]!.at - patches[0]!.at).toBeGreaterThanOrEqual(290);
    expect(retries(metrics, 'GitRepository', 'timeout')).toBe(1);
    expect(series(metrics, 'fluxgate_reconcile_retries_total')).toEqual(['{kind="GitRepository",reason="timeout"} 1']);
    expect(String(gateway.log.lines.find((l) => l.msg === 'patch failed, retrying')?.error)).toMatch(/within 300ms/);
    // The slow attempt still reaches the API server later (as a slow server would apply it): same value, harmless.
    await eventually('the slow attempt to be forwarded', () => patches[0]!.status === 200, { timeoutMs: 5_000 });
    await expectPatchedOnce(ns, proxy, 2);
  }, 30_000);

  test('a reset connection → connection retry, then success', async () => {
    const { ns, proxy, gateway } = await oneGitRepository([{ reset: true }]);
    await push(gateway);
    const metrics = await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    const [reset] = await expectPatchedOnce(ns, proxy, 2);
    expect(reset!.fault).toEqual({ reset: true });
    expect(series(metrics, 'fluxgate_reconcile_retries_total')).toEqual(['{kind="GitRepository",reason="connection"} 1']);
    expect(String(gateway.log.lines.find((l) => l.msg === 'patch failed, retrying')?.error)).toMatch(/ECONNRESET|closed/);
  }, 30_000);

  test('mixed faults on several objects and on the label list, then a second push: exactly the patches expected', async () => {
    const ns = await freshNamespace(cluster);
    await applyAll(cluster, [
      ...['a', 'b', 'c', 'd'].map((name) => gitRepository(ns, name)),
      kustomization(ns, 'web', { app: 'my-app' }),
      kustomization(ns, 'worker', { app: 'my-app' }),
    ]);
    const { proxy, gateway } = await startThroughProxy({
      requestTimeout: '300ms',
      debounce: '100ms',
      resources: [
        ...['a', 'b', 'c', 'd'].map((name) => ({ kind: 'GitRepository', name, namespace: ns })),
        { kind: 'Kustomization', namespace: ns, matchLabels: { app: 'my-app' } },
      ],
    });
    const faults: Record<string, Fault[]> = {
      a: [{ status: 429, retryAfter: '1' }, { reset: true }],
      b: [{ status: 503 }, { slow: 800 }],
      c: [{ reset: true }, { reset: true }, { status: 503 }],
      d: [],
    };
    for (const [name, list] of Object.entries(faults)) proxy.injectFaults({ method: 'PATCH', path: `/namespaces/${ns}/gitrepositories/${name}` }, list);
    proxy.injectFaults({ method: 'GET', path: `/namespaces/${ns}/kustomizations?` }, [{ status: 503 }, { status: 429 }]);

    await push(gateway);
    await outcomeReaches(gateway, 'GitRepository', 'success', 4);
    let metrics = await outcomeReaches(gateway, 'Kustomization', 'success', 2);
    expect(proxy.pendingFaults()).toBe(0);
    expect(series(metrics, 'fluxgate_reconcile_retries_total')).toEqual([
      '{kind="GitRepository",reason="connection"} 3',
      '{kind="GitRepository",reason="server_error"} 2',
      '{kind="GitRepository",reason="throttled"} 1',
      '{kind="GitRepository",reason="timeout"} 1',
      '{kind="Kustomization",reason="server_error"} 1',
      '{kind="Kustomization",reason="throttled"} 1',
    ]);
    expect(series(metrics, 'fluxgate_reconcile_requests_total')).toEqual(['{kind="GitRepository",outcome="success"} 4', '{kind="Kustomization",outcome="success"} 2']);

    const firstValues = new Map<string, string>();
    for (const [name, list] of Object.entries(faults)) {
      const patches = patchesOf(proxy, `/namespaces/${ns}/gitrepositories/${name}`);
      expect({ name, attempts: patches.length }).toEqual({ name, attempts: list.length + 1 });
      const values = new Set(patches.map((p) => annotationValue(p)));
      expect({ name, distinctValues: values.size }).toEqual({ name, distinctValues: 1 });
      firstValues.set(name, [...values][0]!);
    }
    for (const name of ['web', 'worker']) expect(patchesOf(proxy, `/namespaces/${ns}/kustomizations/${name}`)).toHaveLength(1);
    // b's slow attempt is forwarded late (same value): wait for it before reading the objects back.
    await eventually('every PATCH to be answered', () => proxy.requests.every((r) => r.answeredAt !== undefined), { timeoutMs: 5_000 });
    for (const [name, value] of firstValues) expect((await annotationsOf(cluster, GIT_REPOSITORY, ns, name))[REQUESTED_AT]).toBe(value);

    // A second push, no faults left: exactly one more patch per object, each with a new value.
    const before = proxy.requests.filter(isReconcilePatch).length;
    await push(gateway);
    await outcomeReaches(gateway, 'GitRepository', 'success', 8);
    metrics = await outcomeReaches(gateway, 'Kustomization', 'success', 4);
    expect(proxy.requests.filter(isReconcilePatch).length - before).toBe(6);
    for (const [name, value] of firstValues) {
      const now = (await annotationsOf(cluster, GIT_REPOSITORY, ns, name))[REQUESTED_AT]!;
      expect(now).toMatch(RFC3339_NANO);
      expect(now > value).toBe(true);
    }
    for (const name of ['web', 'worker']) expect(patchesOf(proxy, `/namespaces/${ns}/kustomizations/${name}`)).toHaveLength(2);
    expect(metricValue(metrics, 'fluxgate_reconcile_pending')).toBe(0);
    expect(gateway.log.lines.filter((l) => l.msg.startsWith('patch failed') && !l.msg.includes('retrying'))).toEqual([]);
  }, 60_000);
});

describe('one patch at a time per object', () => {
  // A push that arrives while the previous patch of the same object backs off must not start a parallel patch:
  // the old attempt, succeeding later, would put an older requestedAt back, and the API server asked us to slow down.
  test('the object ends with the newest requestedAt, and a throttled object gets no parallel patch', async () => {
    const ns = await freshNamespace(cluster);
    await cluster.apply(gitRepository(ns, 'app'));
    const clock = manualClock(Date.now());
    const { proxy, gateway } = await startThroughProxy({ debounce: '100ms', resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }, clock);
    proxy.injectFaults({ method: 'PATCH', path: `/namespaces/${ns}/gitrepositories/app` }, [{ status: 429, retryAfter: '1' }]);
    await push(gateway);
    await eventually('the first PATCH to be throttled', () => gateway.log.lines.some((line) => line.msg === 'patch failed, retrying'));
    await clock.advance(300); // past the 100 ms debounce window, well inside the 1 s Retry-After
    const secondPushAt = clock.now();
    await push(gateway);
    // The retry; the window closed long ago, so the second push's patch follows as soon as the retry succeeds.
    await clock.advance(700);
    await eventually('no reconcile request pending', async () => metricValue(await metricsText(gateway), 'fluxgate_reconcile_pending') === 0 && patchesOf(proxy, '/gitrepositories/app').length >= 3);
    const final = (await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT]!;
    expect(Date.parse(final)).toBeGreaterThanOrEqual(secondPushAt - 1);
    expect(proxy.maxConcurrent(isReconcilePatch)).toBe(1);
  }, 30_000);
});
