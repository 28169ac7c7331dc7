/**
 * Two REAL API servers as two clusters (`clusters:`): a push reconciles in both, discovered and configured objects
 * each in their cluster; with one API server stopped the other is patched at once, the stopped one's failure is in
 * the delivery log, and /readyz stays 200 while naming the cluster that is down. The gateway runs on a manual
 * clock, so "at once" versus "retrying" is decided by timers, not by how fast the machine is.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { startTestCluster, type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { manualClock } from '../support/manual-clock.ts';
import { discoveryConfig, deliveries, freshRepository, gitRepositoryAt, pushTo, readyz } from './discovery-support.ts';
import { GIT_REPOSITORY, REQUESTED_AT, RFC3339_NANO, annotationsOf, eventually, metricValue, metricsText, startGateway } from './support.ts';

let a: TestCluster;
let b: TestCluster;
let gateway: TestGateway | undefined;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestCluster(), startTestCluster()]);
}, 15 * 60_000);

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
}, 60_000);

describe('two clusters', () => {
  test('a push reconciles in both; with one API server stopped, the other is patched at once and the log shows the failure', async () => {
    const repo = freshRepository();
    const ns = 'fleet';
    for (const cluster of [a, b]) {
      await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await cluster.apply(gitRepositoryAt(ns, 'app', `https://github.com/your-org/${repo}`, { branch: 'main' }));
      await cluster.apply(gitRepositoryAt(ns, 'configured', 'https://example.invalid/elsewhere', { branch: 'main' }));
    }
    const clock = manualClock(Date.now());
    const config = discoveryConfig({
      clusters: [{ name: 'a', kubeconfig: a.kubeconfigPath }, { name: 'b', kubeconfig: b.kubeconfigPath }],
      discovery: { kinds: ['GitRepository'] },
      retry: { maxAttempts: 3, initialDelay: '2s', maxDelay: '4s' },
      // A configured target in cluster b only.
      targets: [{ name: 'configured', providers: ['github'], clusters: ['b'], match: { repository: `your-org/${repo}` }, resources: [{ kind: 'GitRepository', name: 'configured', namespace: ns }] }],
    });
    gateway = await startGateway(config, undefined, clock);
    await eventually('both clusters ready', async () => (await readyz(gateway!)).status === 200 && Object.values((await readyz(gateway!)).body.clusters).every((cluster: any) => cluster.ready), {
      timeoutMs: 20_000,
      describe: async () => JSON.stringify((await readyz(gateway!)).body),
    });

    expect(await pushTo(gateway, repo)).toMatchObject({ status: 202, body: { targets: 1, discovered: 2 } });
    const patchedIn = async (cluster: TestCluster, name: string) => (await annotationsOf(cluster, GIT_REPOSITORY, ns, name))[REQUESTED_AT];
    await eventually('the discovered object patched in both clusters, the configured one in b', async () => Boolean((await patchedIn(a, 'app')) && (await patchedIn(b, 'app')) && (await patchedIn(b, 'configured'))));
    expect(await patchedIn(a, 'configured')).toBeUndefined();
    const [first] = await deliveries(gateway);
    expect(first!.objects.map((object) => [object.cluster, object.object, object.state]).sort()).toEqual([
      ['a', `GitRepository ${ns}/app`, 'patched'],
      ['b', `GitRepository ${ns}/app`, 'patched'],
      ['b', `GitRepository ${ns}/configured`, 'patched'],
    ]);
    expect(first!.objects.find((object) => object.cluster === 'a')!.rule).toBe(`discovered: GitRepository ${ns}/app, url https://github.com/your-org/${repo}, ref branch main`);
    const metrics = await metricsText(gateway);
    expect(metricValue(metrics, 'fluxgate_reconcile_requests_total', '{cluster="a",kind="GitRepository",outcome="success"}')).toBe(1);
    expect(metricValue(metrics, 'fluxgate_reconcile_requests_total', '{cluster="b",kind="GitRepository",outcome="success"}')).toBe(2);
    expect(metricValue(metrics, 'fluxgate_discovery_objects', '{cluster="b",kind="GitRepository"}')).toBe(2);

    // Cluster b's API server goes away.
    const before = await patchedIn(a, 'app');
    await b.stop();
    await clock.advance(100); // past the debounce windows of the first push
    expect(await pushTo(gateway, repo)).toMatchObject({ status: 202, body: { targets: 1, discovered: 2 } });
    await eventually('cluster a patched again', async () => {
      const value = await patchedIn(a, 'app');
      return value !== undefined && value !== before;
    });
    expect(await patchedIn(a, 'app')).toMatch(RFC3339_NANO);
    await eventually('cluster b retrying', async () => gateway!.log.lines.some((line) => line.msg === 'patch failed, retrying' && line.cluster === 'b'));
    const [second] = await deliveries(gateway);
    const stateIn = (record: typeof second, cluster: string, name: string) => record!.objects.find((object) => object.cluster === cluster && object.object === `GitRepository ${ns}/${name}`)?.state;
    // a is done while b waits out its backoff: separate queues.
    expect(stateIn(second, 'a', 'app')).toBe('patched');
    expect(stateIn(second, 'b', 'app')).toBe('pending');

    // Fluxgate stays ready (a still needs its webhooks) and says b is not.
    await clock.advance(3_000);
    const ready = await readyz(gateway);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, reason: 'cluster-not-ready', detail: 'not ready: b', clusters: { a: { ready: true }, b: { ready: false, reason: 'unreachable' } } });
    expect(ready.body.clusters.b.detail).toStartWith('Kubernetes API: cannot reach');

    // b gives up after its attempts: the delivery log shows the failure in b, and only there.
    // Each step fires the retries due; reading the log between steps gives their connection attempts time to fail.
    for (let i = 0; i < 10 && stateIn((await deliveries(gateway))[0], 'b', 'app') === 'pending'; i++) await clock.advance(4_000);
    await eventually('b to fail for good', async () => stateIn((await deliveries(gateway!))[0], 'b', 'app') === 'failed' && stateIn((await deliveries(gateway!))[0], 'b', 'configured') === 'failed', {
      describe: async () => JSON.stringify((await deliveries(gateway!))[0]),
    });
    const [failed] = await deliveries(gateway);
    const bApp = failed!.objects.find((object) => object.cluster === 'b' && object.object === `GitRepository ${ns}/app`)!;
    expect(bApp.detail).toContain('cannot reach');
    expect(stateIn(failed, 'a', 'app')).toBe('patched');
    const after = await metricsText(gateway);
    expect(metricValue(after, 'fluxgate_reconcile_requests_total', '{cluster="b",kind="GitRepository",outcome="failed"}')).toBe(2);
    expect(metricValue(after, 'fluxgate_reconcile_requests_total', '{cluster="a",kind="GitRepository",outcome="failed"}')).toBe(0);
  }, 120_000);
});
