/**
 * Integration: the Kubernetes Event fluxgate writes on each object it patches, read back from a REAL
 * kube-apiserver the way `kubectl describe` finds it (core/v1 events by the object's uid) — one per object per
 * debounce window, its series counting the patches — and an Event that cannot be written never fails the
 * reconcile request.
 */
import { afterEach, expect, test } from 'bun:test';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { manualClock } from '../support/manual-clock.ts';
import type { TestGateway } from '../support/gateway.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { GITHUB_SECRET, GIT_REPOSITORY, eventually, freshNamespace, gatewayConfig, gitRepository, metricValue, metricsText, outcomeReaches, startGateway } from './support.ts';

let cluster: TestCluster;
let adminKubeconfig: string;
let gateway: TestGateway | undefined;

clusterForFile((started) => {
  cluster = started;
  adminKubeconfig = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'events-admin' });
});
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
}, 30_000);

/** core/v1 events about one object, found as `kubectl describe` finds them: by the object's uid. */
async function describeEvents(namespace: string, uid: string): Promise<any[]> {
  const selector = encodeURIComponent(`involvedObject.uid=${uid}`);
  const list = await cluster.request('GET', `/api/v1/namespaces/${namespace}/events?fieldSelector=${selector}`);
  expect(list.status).toBe(200);
  return list.body.items ?? [];
}

test('a push leaves a ReconcileRequested Event on the object, and patches within the window add to its count', async () => {
  const ns = await freshNamespace(cluster, 'events');
  await cluster.apply(gitRepository(ns, 'app'));
  const uid = (await cluster.get(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns, 'app')).metadata.uid;
  const clock = manualClock(Date.now());
  gateway = await startGateway(gatewayConfig({ kubeconfig: adminKubeconfig, debounce: '1m', resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }), undefined, clock);

  const hook = githubWebhook(GITHUB_SECRET, { repository: 'your-org/your-repo', branch: 'main' });
  expect((await post(gateway.hook('github'), hook)).status).toBe(202);
  const [event] = await eventually('the Event', async () => {
    const found = await describeEvents(ns, uid);
    return found.length > 0 && found;
  });
  expect(event).toMatchObject({
    reason: 'ReconcileRequested',
    type: 'Normal',
    reportingComponent: 'fluxgate',
    involvedObject: { apiVersion: GIT_REPOSITORY.apiVersion, kind: 'GitRepository', name: 'app', namespace: ns, uid },
  });
  expect(event.message).toContain('push your-org/your-repo refs/heads/main');
  expect(event.message).toContain(`via github delivery ${hook.headers['x-github-delivery']}`);
  expect(event.message).toMatch(/at [0-9a-f]{12}/);

  // A second push within the one-minute window: its trailing patch runs when the window closes, and the
  // same Event counts it instead of a second Event appearing.
  expect((await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET, { repository: 'your-org/your-repo', branch: 'main' }))).status).toBe(202);
  await clock.advance(60_000);
  await outcomeReaches(gateway, 'GitRepository', 'success', 2);
  const series = await eventually('the series count', async () => {
    const found = await describeEvents(ns, uid);
    return found.length === 1 && found[0].series?.count === 2 && found[0];
  });
  expect(series.series.count).toBe(2);
}, 60_000);

test('kubernetes.events: false writes none', async () => {
  const ns = await freshNamespace(cluster, 'noevents');
  await cluster.apply(gitRepository(ns, 'app'));
  const uid = (await cluster.get(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, ns, 'app')).metadata.uid;
  const config = gatewayConfig({ kubeconfig: adminKubeconfig, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }).replace('requestTimeout: 5s', 'requestTimeout: 5s\n  events: false');
  expect(config).toContain('events: false');
  gateway = await startGateway(config);
  expect((await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET))).status).toBe(202);
  await outcomeReaches(gateway, 'GitRepository', 'success', 1);
  expect(await describeEvents(ns, uid)).toEqual([]);
}, 30_000);

test('credentials that may patch but not create Events: the patch succeeds, the failure is counted and said once', async () => {
  const ns = await freshNamespace(cluster, 'noeventrbac');
  await cluster.apply(gitRepository(ns, 'app'));
  // A user allowed to patch GitRepositories and nothing else.
  await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'patch-only', namespace: ns }, rules: [{ apiGroups: ['source.toolkit.fluxcd.io'], resources: ['gitrepositories'], verbs: ['patch'] }] });
  await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'patch-only', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'patch-only' }, subjects: [cluster.userSubjects.nobody!] });
  const kubeconfig = cluster.writeKubeconfig({ token: cluster.userTokens.nobody!, context: 'events-nobody' });
  gateway = await startGateway(gatewayConfig({ kubeconfig, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }));
  await eventually('the RoleBinding to take effect', async () => {
    expect((await post(gateway!.hook('github'), githubWebhook(GITHUB_SECRET))).status).toBe(202);
    return metricValue(await metricsText(gateway!), 'fluxgate_reconcile_requests_total', '{kind="GitRepository",outcome="success"}') >= 1;
  });
  await eventually('the Event failure counted', async () => metricValue(await metricsText(gateway!), 'fluxgate_kubernetes_events_failed_total', '{reason="forbidden"}') >= 1);
  expect(gateway.log.lines.filter((line) => line.msg === 'could not write a Kubernetes Event (reconcile requests are not affected)')).toHaveLength(1);
  expect(gateway.log.lines.some((line) => String(line.msg).includes('may not create Event'))).toBe(true);
}, 30_000);
