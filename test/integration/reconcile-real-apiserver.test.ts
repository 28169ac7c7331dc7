/**
 * Integration: signed webhooks into a running fluxgate, merge patches on a REAL kube-apiserver (v1.20.2 with
 * the Flux and Argo CD CRDs), objects read back from it. The API server itself enforces what a fake could get
 * wrong: the patch Content-Type (anything but a patch type is 415), TLS verification, authentication.
 */
import { manualClock } from '../support/manual-clock.ts';
import { afterEach, describe, expect, test } from 'bun:test';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { unrelatedCaPem } from '../support/fake-kube-apiserver.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  APPLICATION, ARGO_REFRESH, GIT_REPOSITORY, KUSTOMIZATION, REQUESTED_AT, RFC3339_NANO,
  annotationsOf, applyAll, eventually, freshNamespace, gatewayConfig, gitRepository, kustomization, metricValue,
  metricsText, outcomeReaches, push, startGateway,
} from './support.ts';

let cluster: TestCluster;
let adminKubeconfig: string;
let gateway: TestGateway | undefined;

clusterForFile((started) => {
  cluster = started;
  adminKubeconfig = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'integration-admin' });
});

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
}, 30_000);


describe('a signed push against a real API server', () => {
  test('patches the GitRepository with a fresh requestedAt, and a push after the debounce window patches again', async () => {
    const ns = await freshNamespace(cluster);
    await cluster.apply(gitRepository(ns, 'app', { annotations: { 'example.com/owner': 'team-a' } }));
    const clock = manualClock(Date.now());
    gateway = await startGateway(gatewayConfig({ kubeconfig: adminKubeconfig, debounce: '100ms', resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }), undefined, clock);
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);

    const firstPushAt = clock.now();
    await push(gateway);
    const first = await eventually('requestedAt on the GitRepository', async () => (await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT]);
    expect(first).toMatch(RFC3339_NANO);
    // A fresh value: the time of the patch, not a constant or a stale timestamp.
    expect(Math.abs(Date.parse(first) - firstPushAt)).toBeLessThan(30_000);
    // A merge patch of metadata.annotations only: the rest of the object and its other annotations are intact.
    const object = await cluster.get(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns, 'app');
    expect(object.metadata.annotations['example.com/owner']).toBe('team-a');
    expect(object.spec).toEqual({ url: 'https://example.invalid/app.git', interval: '10m', ref: { branch: 'main' } });
    await outcomeReaches(gateway, 'GitRepository', 'success', 1);
    expect(gateway.log.lines.find((l) => l.msg === 'reconcile requested')).toMatchObject({ object: `GitRepository ${ns}/app`, attempts: 1 });

    // Close the 100 ms debounce window, then push again.
    await clock.advance(100);
    await push(gateway);
    const second = await eventually('a new requestedAt value', async () => {
      const value = (await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT];
      return value !== first ? value : undefined;
    });
    expect(second).toMatch(RFC3339_NANO);
    expect(second > first).toBe(true); // same fixed-width format: later value sorts later
    const metrics = await outcomeReaches(gateway, 'GitRepository', 'success', 2);
    expect(metricValue(metrics, 'fluxgate_debounce_coalesced_total')).toBe(0);
    expect(metrics).not.toContain('fluxgate_reconcile_retries_total{');
  }, 30_000);

  test('matchLabels patches exactly the labelled Kustomizations in that namespace', async () => {
    const ns = await freshNamespace(cluster);
    const elsewhere = await freshNamespace(cluster, 'other');
    await applyAll(cluster, [
      kustomization(ns, 'app-a', { app: 'my-app' }),
      kustomization(ns, 'app-b', { app: 'my-app', tier: 'web' }),
      kustomization(ns, 'unrelated', { app: 'other' }),
      kustomization(elsewhere, 'app-a', { app: 'my-app' }), // same labels, other namespace
    ]);
    gateway = await startGateway(gatewayConfig({ kubeconfig: adminKubeconfig, resources: [{ kind: 'Kustomization', namespace: ns, matchLabels: { app: 'my-app' } }] }));
    await push(gateway);
    await outcomeReaches(gateway, 'Kustomization', 'success', 2);

    for (const name of ['app-a', 'app-b']) expect((await annotationsOf(cluster, KUSTOMIZATION, ns, name))[REQUESTED_AT]).toMatch(RFC3339_NANO);
    expect(await annotationsOf(cluster, KUSTOMIZATION, ns, 'unrelated')).not.toHaveProperty([REQUESTED_AT]);
    expect(await annotationsOf(cluster, KUSTOMIZATION, elsewhere, 'app-a')).not.toHaveProperty([REQUESTED_AT]);
    const metrics = await metricsText(gateway);
    expect(metricValue(metrics, 'fluxgate_reconcile_requests_total', '{kind="Kustomization",outcome="success"}')).toBe(2);
    const patched = gateway.log.lines.filter((l) => l.msg === 'reconcile requested').map((l) => l.object).sort();
    expect(patched).toEqual([`Kustomization ${ns}/app-a`, `Kustomization ${ns}/app-b`]);
  }, 30_000);

  test('an Argo CD Application gets argocd.argoproj.io/refresh: normal (and no Flux annotation)', async () => {
    const ns = await freshNamespace(cluster);
    await cluster.apply({
      apiVersion: APPLICATION.apiVersion,
      kind: APPLICATION.kind,
      metadata: { name: 'guestbook', namespace: ns },
      spec: { project: 'default', source: { repoURL: 'https://example.invalid/guestbook.git', path: 'guestbook' }, destination: { server: 'https://kubernetes.default.svc', namespace: ns } },
    });
    gateway = await startGateway(gatewayConfig({ kubeconfig: adminKubeconfig, resources: [{ kind: 'Application', name: 'guestbook', namespace: ns }] }));
    await push(gateway);
    await outcomeReaches(gateway, 'Application', 'success', 1);
    const annotations = await annotationsOf(cluster, APPLICATION, ns, 'guestbook');
    expect(annotations[ARGO_REFRESH]).toBe('normal');
    expect(annotations).not.toHaveProperty([REQUESTED_AT]);
  }, 30_000);

  test('a missing object: the 404 is logged naming the object, counted as not_found, and not retried', async () => {
    const ns = await freshNamespace(cluster);
    gateway = await startGateway(gatewayConfig({ kubeconfig: adminKubeconfig, resources: [{ kind: 'GitRepository', name: 'gone', namespace: ns }] }));
    await push(gateway);
    const metrics = await outcomeReaches(gateway, 'GitRepository', 'not_found', 1);
    const failure = gateway.log.lines.find((l) => l.msg === 'patch failed');
    expect(failure).toMatchObject({ level: 'error', object: `GitRepository ${ns}/gone`, outcome: 'not_found', attempts: 1 });
    expect(String(failure?.error)).toContain('404 NotFound');
    expect(String(failure?.error)).toContain('"gone" not found');
    // Final at once: nothing is backing off for another attempt, no retry was counted.
    expect(metricValue(metrics, 'fluxgate_reconcile_pending')).toBe(0);
    expect(metrics).not.toContain('fluxgate_reconcile_retries_total{');
    expect(await gateway.shutdown()).toEqual({ unfinished: 0 });
    const after = await (await gateway.handleAdmin(new Request('http://fluxgate/metrics'))).text();
    expect(after).not.toContain('fluxgate_reconcile_retries_total{');
    expect(metricValue(after, 'fluxgate_reconcile_requests_total', '{kind="GitRepository",outcome="not_found"}')).toBe(1);
    expect(gateway.log.lines.filter((l) => l.msg === 'patch failed, retrying')).toEqual([]);
    expect(await cluster.get(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns, 'gone')).toBeNull();
  }, 30_000);
});

describe('connection problems are reported, not hidden', () => {
  test('a kubeconfig with the wrong CA: serves, logs the certificate error, /readyz 503 naming it, patches nothing', async () => {
    const ns = await freshNamespace(cluster);
    await cluster.apply(gitRepository(ns, 'app'));
    const wrongCa = cluster.writeKubeconfig({ token: cluster.adminToken, caPem: await unrelatedCaPem(), context: 'wrong-ca' });
    gateway = await startGateway(gatewayConfig({ kubeconfig: wrongCa, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }));

    // Start-up went on: the server serves, and the log says what is wrong with the certificate.
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const startup = gateway.log.lines.find((l) => l.level === 'error' && /Kubernetes API/.test(l.msg));
    expect(startup).toBeDefined();
    expect(String(startup?.reason)).toMatch(/certificate/i);
    expect(String(startup?.reason)).toContain(cluster.server);
    expect(String(startup?.reason)).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);

    const ready = await fetch(`${gateway.adminUrl}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { ready: boolean; reason: string; detail: string };
    expect(body.ready).toBe(false);
    expect(body.reason).toBe('tls');
    expect(body.detail).toMatch(/certificate/i);
    expect(JSON.stringify(body)).not.toContain(cluster.adminToken);

    // A webhook is still accepted, but no patch gets through an unverified connection.
    await push(gateway);
    await outcomeReaches(gateway, 'GitRepository', 'failed', 1);
    const failure = gateway.log.lines.find((l) => l.msg === 'patch failed');
    expect(failure).toMatchObject({ object: `GitRepository ${ns}/app`, outcome: 'failed' });
    expect(String(failure?.error)).toMatch(/certificate/i);
    expect(await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app')).not.toHaveProperty([REQUESTED_AT]);
    expect(JSON.stringify(gateway.log.lines)).not.toContain(cluster.adminToken);
  }, 30_000);

  test('a token the API server does not know: /readyz 503 says the credentials were rejected; patches are unauthorized', async () => {
    const ns = await freshNamespace(cluster);
    await cluster.apply(gitRepository(ns, 'app'));
    const badToken = 'not-a-token-the-apiserver-knows';
    const kubeconfig = cluster.writeKubeconfig({ token: badToken, context: 'bad-token' });
    gateway = await startGateway(gatewayConfig({ kubeconfig, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }));

    const ready = await fetch(`${gateway.adminUrl}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { reason: string; detail: string };
    expect(body.reason).toBe('unauthorized');
    expect(body.detail).toContain('401');
    expect(body.detail).toMatch(/credentials were rejected/);

    await push(gateway);
    await outcomeReaches(gateway, 'GitRepository', 'unauthorized', 1);
    expect(await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app')).not.toHaveProperty([REQUESTED_AT]);
    expect(JSON.stringify(gateway.log.lines)).not.toContain(badToken);
  }, 30_000);
});
