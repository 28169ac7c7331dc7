/**
 * Discovery against the REAL kube-apiserver: a config with providers and `discovery` and no targets patches the
 * right objects; objects created, changed and deleted while fluxgate runs; a watch cut under it (fault proxy);
 * the RBAC discovery needs. requestedAt is read back from the API server.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import type { TestGateway } from '../support/gateway.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { manualClock } from '../support/manual-clock.ts';
import { until } from '../support/until.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { discoveryConfig, deliveries, freshRepository, gitRepositoryAt, pushTo, readyz, SOURCE_V1, urlForms } from './discovery-support.ts';
import { GIT_REPOSITORY, GITHUB_SECRET, REQUESTED_AT, RFC3339_NANO, annotationsOf, applyAll, eventually, freshNamespace, outcomeReaches, startGateway } from './support.ts';

let cluster: TestCluster;
let gateway: TestGateway | undefined;
let proxy: FaultProxy | undefined;

clusterForFile((started) => void (cluster = started));

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await proxy?.stop();
  proxy = undefined;
}, 30_000);


async function startDiscovering(config: string, files?: Record<string, string>): Promise<TestGateway> {
  gateway = await startGateway(config, files);
  // Ready once every watched kind has been listed: from then on a push sees every object.
  await eventually('/readyz after the first lists', async () => (await readyz(gateway!)).status === 200, { timeoutMs: 20_000, describe: async () => JSON.stringify((await readyz(gateway!)).body) });
  return gateway;
}

/** Pushes until the answer satisfies `wanted` (the watch delivers a change a moment after the API server stored it); a 200 changes nothing. */
async function pushUntil(repo: string, wanted: (answer: { status: number; body: any }) => boolean, what: string, ref?: { branch?: string; tag?: string }) {
  let last: { status: number; body: any } | undefined;
  await eventually(what, async () => wanted((last = await pushTo(gateway!, repo, ref))), { describe: () => JSON.stringify(last) });
  return last!;
}

describe('one push, 500 GitRepositories in 20 namespaces, no target written', () => {
  test('reconciles exactly those whose URL is the repository (any spelling) and whose ref follows main; none other', async () => {
    const repo = freshRepository();
    const namespaces = await Promise.all(Array.from({ length: 20 }, () => freshNamespace(cluster, 'disc')));
    const forms = urlForms(repo);
    const manifests: any[] = [];
    const expected = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const ns = namespaces[i % 20]!;
      const name = `repo-${String(i).padStart(3, '0')}`;
      const url = forms[Math.floor(i / 10) % forms.length]!;
      const category = i % 10;
      const refs: (Record<string, string> | undefined)[] = [
        { branch: 'main' }, // 0: reconciled
        { branch: 'dev' },
        { tag: 'v1.0.0' },
        { semver: '>=1.0.0' },
        { name: 'refs/heads/main' }, // 4: reconciled
        undefined, // Flux's master (the payload's default branch is master too)
        { branch: 'main', commit: '0123456789abcdef0123456789abcdef01234567' }, // pinned
        { branch: 'main' }, // 7: suspended
        { branch: 'main' }, // 8: fluxgate.io/ignore
        { branch: 'main' }, // 9: another host or another repository
      ];
      const ref = refs[category];
      const otherUrl = i % 20 < 10 ? `https://gitlab.com/your-org/${repo}` : `https://github.com/your-org/${repo}-config`;
      manifests.push(gitRepositoryAt(ns, name, category === 9 ? otherUrl : url, ref, { suspend: category === 7, ...(category === 8 ? { annotations: { 'fluxgate.io/ignore': 'true' } } : {}) }));
      if (category === 0 || category === 4) expected.add(`${ns}/${name}`);
    }
    await applyAll(cluster, manifests);
    await startDiscovering(discoveryConfig({ kubeconfig: cluster.kubeconfigPath }));

    const answer = await pushTo(gateway!, repo);
    expect(answer).toMatchObject({ status: 202, body: { targets: 0, discovered: 100 } });
    await outcomeReaches(gateway!, 'GitRepository', 'success', 100, 60_000);

    const patched = new Set<string>();
    for (const ns of namespaces) {
      const list = await cluster.request('GET', `/apis/${SOURCE_V1}/namespaces/${ns}/gitrepositories`);
      for (const item of list.body.items) {
        const value = item.metadata.annotations?.[REQUESTED_AT];
        if (value !== undefined) {
          expect(value).toMatch(RFC3339_NANO);
          patched.add(`${ns}/${item.metadata.name}`);
        }
      }
    }
    expect(patched.size).toBe(100);
    expect([...patched].sort()).toEqual([...expected].sort());

    // The record names the rule that found each object, and a bounded list of near misses.
    const [record] = await deliveries(gateway!);
    expect(record!.objects).toHaveLength(100);
    for (const object of record!.objects) {
      expect(object.state).toBe('patched');
      expect(object.rule).toMatch(new RegExp(`^discovered: ${object.object}, url \\S+, ref (branch main|refs/heads/main)$`));
    }
    // 350 near misses (the 50 of other repositories are not even candidates): 10 listed, the rest counted.
    expect(record!.nearMisses).toHaveLength(11);
    expect(record!.nearMisses!.at(-1)).toBe('and 340 more');
    const reasons = new Set([
      'follows branch dev, not branch main',
      'follows tag v1.0.0, not branch main',
      'follows semver >=1.0.0 (tags only), not branch main',
      'no ref follows branch master, not branch main',
      'pinned to commit 0123456789ab',
      'suspended (spec.suspend: true)',
      'ignored (fluxgate.io/ignore: "true")',
    ]);
    for (const miss of record!.nearMisses!.slice(0, -1)) expect(reasons).toContain(miss.replace(/^GitRepository \S+: /, ''));
  }, 180_000);
});

describe('while fluxgate runs', () => {
  test('an object created, changed (branch, then URL) and deleted is found, re-filed and dropped without a restart', async () => {
    const repo = freshRepository();
    const moved = freshRepository();
    const ns = await freshNamespace(cluster, 'life');
    await startDiscovering(discoveryConfig({ kubeconfig: cluster.kubeconfigPath, discovery: { kinds: ['GitRepository'] } }));
    expect(await pushTo(gateway!, repo)).toEqual({ status: 200, body: { ignored: `no watched object uses repository github.com/your-org/${repo}` } });

    await cluster.apply(gitRepositoryAt(ns, 'app', `git@github.com:your-org/${repo}.git`, { branch: 'main' }));
    await pushUntil(repo, (answer) => answer.status === 202, 'the created object to be found');
    await outcomeReaches(gateway!, 'GitRepository', 'success', 1);
    const first = (await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT];
    expect(first).toMatch(RFC3339_NANO);

    await cluster.apply(gitRepositoryAt(ns, 'app', `git@github.com:your-org/${repo}.git`, { branch: 'release' }));
    const missed = await pushUntil(repo, (answer) => answer.status === 200, 'the branch change to be seen');
    expect(missed.body).toEqual({ ignored: `no watched object follows this push (GitRepository ${ns}/app: follows branch release, not branch main)` });
    expect(await pushTo(gateway!, repo, { branch: 'release' })).toMatchObject({ status: 202, body: { discovered: 1 } });
    await outcomeReaches(gateway!, 'GitRepository', 'success', 2);

    await cluster.apply(gitRepositoryAt(ns, 'app', `https://github.com/your-org/${moved}`, { branch: 'release' }));
    await pushUntil(moved, (answer) => answer.status === 202, 'the URL change to re-file the object', { branch: 'release' });
    expect(await pushTo(gateway!, repo, { branch: 'release' })).toMatchObject({ status: 200 });
    await outcomeReaches(gateway!, 'GitRepository', 'success', 3);

    await cluster.request('DELETE', `/apis/${SOURCE_V1}/namespaces/${ns}/gitrepositories/app`);
    await pushUntil(moved, (answer) => answer.status === 200, 'the deletion to drop the object', { branch: 'release' });
    expect(await pushTo(gateway!, moved, { branch: 'release' })).toEqual({ status: 200, body: { ignored: `no watched object uses repository github.com/your-org/${moved}` } });
  }, 60_000);

  test('a 350 KB semver range (30,000 alternatives) is a near miss that says why; a normal range beside it still matches the tag', async () => {
    const repo = freshRepository();
    const ns = await freshNamespace(cluster, 'semver');
    const huge = Array.from({ length: 30_000 }, (_, index) => `1.0.${index}`).join(' || ');
    expect(huge.length).toBeGreaterThan(350_000);
    await applyAll(cluster, [
      gitRepositoryAt(ns, 'huge', `https://github.com/your-org/${repo}`, { semver: huge }),
      gitRepositoryAt(ns, 'normal', `https://github.com/your-org/${repo}`, { semver: '>=1.0.0, <2.0.0' }),
    ]);
    await startDiscovering(discoveryConfig({ kubeconfig: cluster.kubeconfigPath, discovery: { kinds: ['GitRepository'] } }));
    expect(await pushTo(gateway!, repo, { tag: 'v1.4.0' })).toMatchObject({ status: 202, body: { discovered: 1 } });
    const [record] = await deliveries(gateway!);
    expect(record!.objects.map((object) => [object.object, object.rule])).toEqual([[`GitRepository ${ns}/normal`, `discovered: GitRepository ${ns}/normal, url https://github.com/your-org/${repo}, ref semver >=1.0.0, <2.0.0 (tag v1.4.0)`]]);
    expect(record!.nearMisses).toEqual([`GitRepository ${ns}/huge: semver range ${huge.slice(0, 64)}… is ${huge.length} characters long, more than the 1024 fluxgate reads`]);
    expect(await pushTo(gateway!, repo, { tag: 'v2.0.0' })).toEqual({
      status: 200,
      body: { ignored: `no watched object follows this push (GitRepository ${ns}/huge: semver range ${huge.slice(0, 64)}… is ${huge.length} characters long, more than the 1024 fluxgate reads; GitRepository ${ns}/normal: tag v2.0.0 is not in semver >=1.0.0, <2.0.0)` },
    });
  }, 60_000);

  test('a watch cut by the server side (fault proxy) resumes from where it was: changes made meanwhile are not missed, no re-list; shutdown closes it', async () => {
    const repo = freshRepository();
    const ns = await freshNamespace(cluster, 'cut');
    await cluster.apply(gitRepositoryAt(ns, 'before', `https://github.com/your-org/${repo}`, { branch: 'main' }));
    proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
    await startDiscovering(discoveryConfig({ kubeconfig: 'kubeconfig.yaml', discovery: { kinds: ['GitRepository'] } }), { 'kubeconfig.yaml': proxy.kubeconfig({ token: cluster.adminToken }) });
    const watches = () => proxy!.requests.filter((request) => request.path.includes('/gitrepositories?') && request.path.includes('watch=1'));
    // List starts (a list of many objects has further pages, with `continue`).
    const lists = () => proxy!.requests.filter((request) => request.path.includes('/gitrepositories?') && !request.path.includes('watch=') && !request.path.includes('continue='));
    await until(() => watches()[0]?.status === 200, 'the watch to be streaming');
    expect(watches()).toHaveLength(1);

    expect(proxy.cutStreams({ abrupt: true })).toBe(1);
    // While the watch is down: a new object, a branch change, a deletion.
    await cluster.apply(gitRepositoryAt(ns, 'during', `ssh://git@github.com/your-org/${repo}.git`, { branch: 'main' }));
    await cluster.apply(gitRepositoryAt(ns, 'before', `https://github.com/your-org/${repo}`, { branch: 'dev' }));
    await cluster.apply(gitRepositoryAt(ns, 'doomed', `https://github.com/your-org/${repo}`, { branch: 'main' }));
    await cluster.request('DELETE', `/apis/${SOURCE_V1}/namespaces/${ns}/gitrepositories/doomed`);
    await until(() => watches().length === 2, 'the watch to be resumed', 10_000);
    // A push of a branch nothing follows reconciles nothing and lists every object of the repository: wait for the final state.
    await pushUntil(
      repo,
      (probe) => probe.body.ignored === `no watched object follows this push (GitRepository ${ns}/before: follows branch dev, not branch probe; GitRepository ${ns}/during: follows branch main, not branch probe)`,
      'every change made while the watch was cut',
      { branch: 'probe' },
    );
    expect(await pushTo(gateway!, repo)).toMatchObject({ status: 202, body: { discovered: 1 } });
    const [record] = await deliveries(gateway!);
    expect(record!.objects.map((object) => object.object)).toEqual([`GitRepository ${ns}/during`]);
    expect(record!.nearMisses).toEqual([`GitRepository ${ns}/before: follows branch dev, not branch main`]);
    expect(lists()).toHaveLength(1);
    // Nothing arrived before the cut: the watch resumed from the list's resourceVersion, and the changes came through it.
    const versionOf = (request: { path: string }) => new URL(request.path, 'https://x').searchParams.get('resourceVersion');
    expect(versionOf(watches()[1]!)).toBe(versionOf(watches()[0]!));

    await gateway!.stop();
    gateway = undefined;
    await until(() => watches().every((request) => request.closedAt !== undefined), 'every watch connection to be closed at shutdown');
  }, 60_000);
});

describe('before the first list', () => {
  test('a push that nothing listed so far concerns is answered 503 with Retry-After, never a final 200; once listed, the same push reconciles', async () => {
    const repo = freshRepository();
    const ns = await freshNamespace(cluster, 'unlisted');
    await cluster.apply(gitRepositoryAt(ns, 'app', `https://github.com/your-org/${repo}`, { branch: 'main' }));
    proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
    // The first LIST fails: the watch backs off on the manual clock, so the index stays unlisted until the test moves time.
    proxy.injectFaults({ method: 'GET', path: '/gitrepositories?' }, [{ status: 503 }]);
    const clock = manualClock(Date.now());
    gateway = await startGateway(discoveryConfig({ kubeconfig: 'kubeconfig.yaml', discovery: { kinds: ['GitRepository'] } }), { 'kubeconfig.yaml': proxy.kubeconfig({ token: cluster.adminToken }) }, clock);
    const refused = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET, { repository: `your-org/${repo}` }));
    expect({ status: refused.status, retryAfter: refused.headers.get('retry-after'), body: await refused.json() }).toEqual({
      status: 503,
      retryAfter: '5',
      body: { error: 'discovery has not listed GitRepository yet, so what this push concerns is not known: retry shortly' },
    });
    // Refused, and nothing kept: the retry is a new delivery, not a duplicate.
    expect((await deliveries(gateway)).map((record) => [record.outcome, record.objects.length])).toEqual([['rejected', 0]]);

    // The host's retry, once the list is done: reconciled.
    await eventually('the list to succeed after its backoff', async () => {
      await clock.advance(1_000);
      return (await readyz(gateway!)).status === 200;
    });
    expect(await pushTo(gateway, repo)).toMatchObject({ status: 202, body: { discovered: 1 } });
    expect(await eventually('requestedAt on the object', async () => (await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT])).toMatch(RFC3339_NANO);
  }, 60_000);
});

describe('RBAC for discovery', () => {
  const rules = [
    { apiGroups: ['source.toolkit.fluxcd.io'], resources: ['gitrepositories', 'ocirepositories'], verbs: ['list', 'watch', 'patch'] },
    { apiGroups: ['image.toolkit.fluxcd.io'], resources: ['imagerepositories'], verbs: ['list', 'watch', 'patch'] },
    { apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['list', 'watch', 'patch'] },
  ];

  async function userWith(name: string, roleRules: typeof rules): Promise<string> {
    await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: roleRules });
    await cluster.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [cluster.userSubjects.fluxgate],
    });
    return cluster.writeKubeconfig({ token: cluster.userTokens.fluxgate!, context: name });
  }

  test('the documented rules (list, watch, patch on exactly the watched kinds) are enough: nothing missing, objects patched', async () => {
    const kubeconfig = await userWith('fluxgate-discovery', rules);
    const repo = freshRepository();
    const ns = await freshNamespace(cluster, 'rbac');
    await applyAll(cluster, [
      gitRepositoryAt(ns, 'app', `https://github.com/your-org/${repo}`, { branch: 'main' }),
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'app', namespace: ns }, spec: { source: { repoURL: `https://github.com/your-org/${repo}.git`, targetRevision: 'main' } } },
    ]);
    await startDiscovering(discoveryConfig({ kubeconfig }));
    await eventually('the start-up permission check', () => gateway!.log.lines.some((line) => line.msg === 'kubernetes permissions checked'));
    expect(gateway!.log.lines.find((line) => line.msg === 'kubernetes permissions checked')).toMatchObject({ missing: 0 });
    expect(await pushTo(gateway!, repo)).toMatchObject({ status: 202, body: { discovered: 2 } });
    await outcomeReaches(gateway!, 'GitRepository', 'success', 1);
    await outcomeReaches(gateway!, 'Application', 'success', 1);
    expect((await annotationsOf(cluster, { apiVersion: 'argoproj.io/v1alpha1', plural: 'applications' }, ns, 'app'))['argocd.argoproj.io/refresh']).toBe('normal');
    await cluster.request('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fluxgate-discovery');
  }, 60_000);

  test('without watch: the start-up check names the missing permission, and /readyz says which kind cannot be listed', async () => {
    const kubeconfig = await userWith('fluxgate-no-watch', [{ apiGroups: ['source.toolkit.fluxcd.io'], resources: ['gitrepositories'], verbs: ['list', 'patch'] }]);
    gateway = await startGateway(discoveryConfig({ kubeconfig, discovery: { kinds: ['GitRepository', 'Application'] } }));
    await eventually('the start-up permission check', () => gateway!.log.lines.some((line) => line.msg === 'kubernetes permissions checked'));
    const warnings = gateway.log.lines.filter((line) => line.level === 'warn' && line.msg.startsWith('the Kubernetes credentials may not')).map((line) => line.msg).sort();
    expect(warnings).toEqual([
      'the Kubernetes credentials may not list Application in any namespace: discovery cannot keep its index of it',
      'the Kubernetes credentials may not patch Application in any namespace: reconcile requests for it will fail with 403',
      'the Kubernetes credentials may not watch Application in any namespace: discovery cannot keep its index of it',
      'the Kubernetes credentials may not watch GitRepository in any namespace: discovery cannot keep its index of it',
    ]);
    // GitRepository lists, then its watch is refused; Application cannot even be listed: not ready, and why.
    await eventually('/readyz to name the kind that cannot be listed', async () => /discovery has not listed Application \(.*403/.test((await readyz(gateway!)).body.detail ?? ''));
    expect(await readyz(gateway!)).toMatchObject({ status: 503, body: { reason: 'discovery-not-synced' } });
    await cluster.request('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fluxgate-no-watch');
  }, 60_000);
});
