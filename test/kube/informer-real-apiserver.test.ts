/**
 * The informer against the REAL kube-apiserver (test/support/kube-apiserver), directly and through the fault
 * proxy (test/support/fault-proxy.ts): TLS verified from the kubeconfig, list pages, create/change/delete,
 * streams cut by the server side, 410s, a CRD that appears and disappears, and a stop() that closes the watch.
 * Timers (backoff, kind re-checks) run on a manual clock; only I/O is waited for.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectKubernetes } from '../../src/kube/connect.ts';
import type { KubeApi } from '../../src/kube/client.ts';
import { createInformer, type Informer, type WatchedObject } from '../../src/kube/informer.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { manualClock, type ManualClock } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';
import { applyAll, freshNamespace, gitRepository } from '../integration/support.ts';

const GIT = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', plural: 'gitrepositories' };

let cluster: TestCluster;
let proxy: FaultProxy | undefined;
const informers: Informer[] = [];
const dir = tempDir();

clusterForFile((started) => void (cluster = started));

afterEach(async () => {
  await Promise.all(informers.splice(0).map((informer) => informer.stop()));
  await proxy?.stop();
  proxy = undefined;
}, 30_000);

afterAll(() => dir.remove());

/** The API a kubeconfig file leads to, through fluxgate's own connect code (CA, token, TLS settings). */
async function apiFrom(kubeconfigText: string): Promise<KubeApi> {
  const path = join(dir.path, `kubeconfig-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, kubeconfigText);
  const connection = await connectKubernetes({ mode: 'kubeconfig', kubeconfig: path, requestTimeout: 5_000 }, { HOME: dir.path });
  return connection.client.api;
}

/** An informer whose consumer keeps `objects` as an index would. */
function watch(api: KubeApi, options: { namespaces?: string[]; pageSize?: number; kind?: { apiVersion: string; kind: string }; kindRecheckMs?: number } = {}) {
  const clock: ManualClock = manualClock();
  const log = memoryLogger();
  const objects = new Map<string, WatchedObject>();
  const syncs: number[] = [];
  const key = (object: WatchedObject) => `${object.metadata.namespace}/${object.metadata.name}`;
  const informer = createInformer({
    api,
    apiVersion: options.kind?.apiVersion ?? GIT.apiVersion,
    kind: options.kind?.kind ?? GIT.kind,
    namespaces: options.namespaces,
    pageSize: options.pageSize,
    kindRecheckMs: options.kindRecheckMs,
    clock,
    log,
    random: () => 0.5,
    onSync(all) {
      syncs.push(all.length);
      objects.clear();
      for (const object of all) objects.set(key(object), object);
    },
    onChange({ type, object }) {
      if (type === 'delete') objects.delete(key(object));
      else objects.set(key(object), object);
    },
  });
  informers.push(informer);
  informer.start();
  return { informer, clock, log, objects, syncs };
}

/**
 * Fires the informer's timers, one at a time, until `condition` holds: for steps whose pace is the API server's
 * (a new CRD is served a moment after it is created), so the test waits for I/O and only simulates time.
 */
async function driveUntil(clock: ManualClock, condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    if (clock.timers() > 0) await clock.advance(clock.nextDelay()!);
    await Bun.sleep(20);
  }
}

const branchOf = (objects: Map<string, WatchedObject>, key: string) => objects.get(key)?.spec?.ref?.branch;

function withBranch(namespace: string, name: string, branch: string) {
  const object = gitRepository(namespace, name);
  return { ...object, spec: { ...object.spec, ref: { branch } } };
}

describe('TLS: the watch verifies the API server as the kubeconfig says', () => {
  test('with the kubeconfig CA it lists and watches; with another CA it never does and says why', async () => {
    const ns = await freshNamespace(cluster, 'tls');
    await cluster.apply(gitRepository(ns, 'app'));
    const trusted = watch(await apiFrom(await Bun.file(cluster.kubeconfigPath).text()), { namespaces: [ns] });
    await until(() => trusted.informer.state() === 'watching', 'a watch with the right CA', 20_000);
    expect([...trusted.objects.keys()]).toEqual([`${ns}/app`]);

    // A CA that did not sign the API server's certificate: the fault proxy's.
    proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
    const otherCa = proxy.caPem;
    const untrusted = watch(await apiFrom(await Bun.file(cluster.writeKubeconfig({ token: cluster.adminToken, caPem: otherCa })).text()), { namespaces: [ns] });
    await until(() => untrusted.informer.state() === 'backing-off', 'a refused certificate', 20_000);
    expect(untrusted.informer.problem()).toContain(`certificate verify failed talking to ${cluster.server}`);
    expect(untrusted.syncs).toEqual([]);
    expect(untrusted.informer.problem()).not.toContain(cluster.adminToken);
  }, 60_000);
});

describe('against the real API server', () => {
  test('lists page by page, then sees objects created, changed (branch, URL) and deleted, without a restart', async () => {
    const ns = await freshNamespace(cluster, 'lw');
    await applyAll(cluster, Array.from({ length: 25 }, (_, i) => gitRepository(ns, `repo-${String(i).padStart(2, '0')}`)));
    proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
    const { informer, objects, syncs } = watch(await apiFrom(proxy.kubeconfig({ token: cluster.adminToken })), { namespaces: [ns], pageSize: 10 });
    await until(() => informer.state() === 'watching', 'the first watch', 20_000);
    expect(syncs).toEqual([25]);
    const lists = proxy.requests.filter((request) => request.method === 'GET' && request.path.includes(`/namespaces/${ns}/gitrepositories?`) && !request.path.includes('watch='));
    expect(lists.map((request) => new URL(request.path, 'https://x').searchParams.get('limit'))).toEqual(['10', '10', '10']);
    expect(lists.slice(1).every((request) => new URL(request.path, 'https://x').searchParams.get('continue'))).toBe(true);
    const watchRequest = proxy.requests.find((request) => request.path.includes('watch=1'))!;
    expect(new URL(watchRequest.path, 'https://x').searchParams.get('allowWatchBookmarks')).toBe('true');
    expect(new URL(watchRequest.path, 'https://x').searchParams.get('timeoutSeconds')).toBe('300');

    await cluster.apply(gitRepository(ns, 'created'));
    await until(() => objects.has(`${ns}/created`), 'the created object');
    await cluster.apply(withBranch(ns, 'created', 'release'));
    await until(() => branchOf(objects, `${ns}/created`) === 'release', 'the branch change');
    const moved = gitRepository(ns, 'created');
    await cluster.apply({ ...moved, spec: { ...moved.spec, url: 'ssh://git@github.com/org/moved.git', ref: { branch: 'release' } } });
    await until(() => objects.get(`${ns}/created`)?.spec.url === 'ssh://git@github.com/org/moved.git', 'the URL change');
    await cluster.request('DELETE', `/apis/${GIT.apiVersion}/namespaces/${ns}/gitrepositories/repo-00`);
    await until(() => !objects.has(`${ns}/repo-00`), 'the deletion');
    expect(objects.size).toBe(25);
    expect(objects.get(`${ns}/repo-01`)!.metadata).not.toHaveProperty('managedFields');
  }, 60_000);
});

describe('through the fault proxy', () => {
  async function watchedThroughProxy(ns: string) {
    proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
    const watched = watch(await apiFrom(proxy.kubeconfig({ token: cluster.adminToken })), { namespaces: [ns] });
    await until(() => watched.informer.state() === 'watching', 'the first watch', 20_000);
    return { proxy, ...watched };
  }
  const listsOf = (p: FaultProxy, ns: string) => p.requests.filter((request) => request.path.includes(`/namespaces/${ns}/gitrepositories?`) && !request.path.includes('watch='));
  const watchesOf = (p: FaultProxy, ns: string) => p.requests.filter((request) => request.path.includes(`/namespaces/${ns}/gitrepositories?`) && request.path.includes('watch='));

  test('a watch cut under it (connection reset) resumes from the last resourceVersion: changes made meanwhile all arrive, no re-list', async () => {
    const ns = await freshNamespace(cluster, 'cut');
    await cluster.apply(gitRepository(ns, 'app'));
    const { proxy, informer, clock, objects } = await watchedThroughProxy(ns);
    await cluster.apply(withBranch(ns, 'app', 'dev'));
    await until(() => branchOf(objects, `${ns}/app`) === 'dev', 'a change before the cut');

    expect(proxy.cutStreams({ abrupt: true })).toBe(1);
    await until(() => informer.state() === 'backing-off', 'the cut to be noticed');
    // While nobody watches: a change, a new object and a deletion.
    await cluster.apply(withBranch(ns, 'app', 'release'));
    await cluster.apply(gitRepository(ns, 'new'));
    await cluster.apply(gitRepository(ns, 'doomed'));
    await cluster.request('DELETE', `/apis/${GIT.apiVersion}/namespaces/${ns}/gitrepositories/doomed`);
    await clock.advance(clock.nextDelay()!);
    await until(() => branchOf(objects, `${ns}/app`) === 'release' && objects.has(`${ns}/new`) && !objects.has(`${ns}/doomed`), 'every change made while cut');
    expect(listsOf(proxy, ns)).toHaveLength(1);
    expect(watchesOf(proxy, ns)).toHaveLength(2);
    expect(informer.state()).toBe('watching');
  }, 60_000);

  test('a watch that ends cleanly (as at its timeout) is resumed at once', async () => {
    const ns = await freshNamespace(cluster, 'end');
    await cluster.apply(gitRepository(ns, 'app'));
    const { proxy, objects } = await watchedThroughProxy(ns);
    await cluster.apply(withBranch(ns, 'app', 'dev'));
    await until(() => branchOf(objects, `${ns}/app`) === 'dev', 'an event on the first watch');
    proxy.cutStreams({ abrupt: false });
    await until(() => watchesOf(proxy, ns).length === 2, 'the watch to be resumed without a timer');
    await cluster.apply(withBranch(ns, 'app', 'main'));
    await until(() => branchOf(objects, `${ns}/app`) === 'main', 'an event on the resumed watch');
    expect(listsOf(proxy, ns)).toHaveLength(1);
  }, 60_000);

  test('410 — as an HTTP answer, and as an ERROR event in a 200 stream — re-lists, and the set is whole again', async () => {
    const ns = await freshNamespace(cluster, 'gone');
    await cluster.apply(gitRepository(ns, 'app'));
    const { proxy, informer, clock, syncs, objects } = await watchedThroughProxy(ns);
    await cluster.apply(withBranch(ns, 'app', 'dev'));
    await until(() => branchOf(objects, `${ns}/app`) === 'dev', 'an event on the first watch');
    proxy.injectFaults({ method: 'GET', path: 'watch=1' }, [{ watchError: 410 }, { status: 410 }]);
    await cluster.apply(gitRepository(ns, 'second'));
    await until(() => objects.has(`${ns}/second`), 'the second object');
    // The watch ends → resumed at once → ERROR event 410 → a list at once → a watch → HTTP 410 → (backoff) → a list.
    proxy.cutStreams({ abrupt: false });
    // The one timer must be the backoff: while the third watch waits for its 410, its own guard (the watch's
    // timeout, 300 s and more) is the one timer, and advancing to it would expire the watch instead.
    await until(() => syncs.length === 2 && proxy.pendingFaults() === 0 && clock.timers() === 1 && clock.nextDelay()! < 300_000, 'the first re-list, then the second 410 and its backoff');
    await clock.advance(clock.nextDelay()!);
    await until(() => syncs.length === 3 && informer.state() === 'watching', 'the second re-list');
    expect(syncs).toEqual([1, 2, 2]);
    expect(listsOf(proxy, ns)).toHaveLength(3);
    expect(proxy.requests.filter((request) => request.fault !== undefined).map((request) => request.status)).toEqual([200, 410]);
  }, 60_000);

  test('stop() closes the watch connection (the proxy sees the client go) and leaves no timer', async () => {
    const ns = await freshNamespace(cluster, 'stop');
    const { proxy, informer, clock } = await watchedThroughProxy(ns);
    const open = watchesOf(proxy, ns).filter((request) => request.closedAt === undefined);
    expect(open).toHaveLength(1);
    await informer.stop();
    await until(() => open[0]!.closedAt !== undefined, 'the watch connection to close');
    expect(clock.timers()).toBe(0);
    expect(informer.state()).toBe('stopped');
  }, 60_000);
});

describe('a kind whose CRD comes and goes', () => {
  const WIDGET = { apiVersion: 'fluxgate.example.com/v1', kind: 'Widget' };
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.fluxgate.example.com' },
    spec: {
      group: 'fluxgate.example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };

  test('absent: one log line; created: picked up at the next re-check; deleted: its objects are gone', async () => {
    const api = await apiFrom(await Bun.file(cluster.kubeconfigPath).text());
    const { informer, clock, log, objects, syncs } = watch(api, { kind: WIDGET, kindRecheckMs: 30_000 });
    await until(() => informer.state() === 'kind-absent', 'the kind to be found absent', 10_000);
    expect(informer.problem()).toContain('fluxgate.example.com/v1 is not served by');
    await clock.advance(30_000);
    await until(() => informer.state() === 'kind-absent' && clock.timers() === 1, 'a second re-check');
    expect(log.lines.filter((line) => line.msg.startsWith('kind not served'))).toHaveLength(1);

    await cluster.apply(crd);
    const ns = await freshNamespace(cluster, 'widgets');
    await driveUntil(clock, () => informer.state() === 'watching', 'the new kind to be watched');
    await cluster.apply({ ...WIDGET, metadata: { name: 'w1', namespace: ns }, spec: { size: 1 } });
    await until(() => objects.has(`${ns}/w1`), 'the first widget');
    expect(log.lines.filter((line) => line.msg === 'kind is served now: watching it')).toHaveLength(1);

    await cluster.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.fluxgate.example.com');
    await driveUntil(clock, () => informer.state() === 'kind-absent' && objects.size === 0, 'the kind to be gone');
    expect(objects.size).toBe(0);
    expect(syncs.at(-1)).toBe(0);
  }, 90_000);
});
