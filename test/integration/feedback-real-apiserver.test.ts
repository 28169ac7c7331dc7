/**
 * Following against the REAL kube-apiserver: the test plays source-controller and kustomize-controller by writing
 * their status subresources, and fake GitHub, GitLab and Gitea status APIs on loopback record every request. A push
 * to a GitRepository with two Kustomizations using it is followed to "applied" on both, with the stage times on the
 * gateway's manual clock in the delivery record and the histograms, and pending → success statuses on the commit;
 * a Kustomization that fails reports its message; nothing happening is an error at the timeout; a second push while
 * the first is followed supersedes it; two clusters report one status each.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify as toYaml } from 'yaml';
import type { TestGateway } from '../support/gateway.ts';
import { startFakeStatuses, type FakeStatuses } from '../support/git-hosts/fake-statuses.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { manualClock, type ManualClock } from '../support/manual-clock.ts';
import { bitbucketWebhook, githubWebhook, giteaWebhook, gitlabWebhook, post } from '../support/webhooks.ts';
import { APPLICATION, commitSha, feedbackConfig, gitRepositoryOf, kustomizationAt, kustomizationOf, recordOf, rowsAt, sourceFetched, writeStatus } from './feedback-support.ts';
import { applyAll, eventually, freshNamespace, GIT_REPOSITORY, metricsText, series } from './support.ts';
import { startTestGateway } from '../support/gateway.ts';
import { requestedAt } from './feedback-support.ts';
import { sincePush } from '../../src/http/followed-section.ts';

let cluster: TestCluster;
let gateway: TestGateway | undefined;
const hosts: FakeStatuses[] = [];

clusterForFile((started) => void (cluster = started));

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await Promise.all(hosts.splice(0).map((host) => host.stop()));
}, 30_000);

const SECRET = 'feedback-webhook-secret-5d2e';
const TOKEN = 'status-token-7c1d';

function fakeHost(kind: Parameters<typeof startFakeStatuses>[0]): FakeStatuses {
  const host = startFakeStatuses(kind, TOKEN);
  hosts.push(host);
  return host;
}

/** A namespace with the GitRepository `app` of `your-org/<repo>` and the Kustomizations `apps` and `infra` using it. */
async function fleet(repo: string, url = `https://github.com/your-org/${repo}`): Promise<string> {
  const ns = await freshNamespace(cluster, 'fb');
  await applyAll(cluster, [gitRepositoryOf(ns, 'app', url), kustomizationOf(ns, 'apps', 'app'), kustomizationOf(ns, 'infra', 'app')]);
  return ns;
}

async function start(config: string, clock: ManualClock): Promise<TestGateway> {
  gateway = await startTestGateway({ config, env: { WEBHOOK_SECRET: SECRET }, clock });
  return gateway;
}

const githubProvider = (host: FakeStatuses) => ({ name: 'github', type: 'github', secret: { env: 'WEBHOOK_SECRET' }, register: { token: { value: TOKEN }, apiUrl: host.origin } });

describe('a push to a GitRepository with two Kustomizations using it', () => {
  test('GitHub: both applied; the stage times on the record and the histograms; pending → success on the commit, every request checked', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const github = fakeHost('github');
    const clock = manualClock(Date.now());
    await start(feedbackConfig({ kubeconfig: cluster.kubeconfigPath, provider: githubProvider(github), repository: `your-org/${repo}`, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }), clock);
    const commit = commitSha();
    const pushedAt = Math.floor(clock.now() / 1000) - 3; // GitHub's repository.pushed_at: 3 s before the delivery
    const answer = await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit, pushedAt, deliveryId: 'd-github' }));
    expect(answer.status).toBe(202);

    // source-controller fetches the commit 2 s later, kustomize-controller applies both 4 s after that.
    const revision = await (async () => {
      await requestedAt(cluster, GIT_REPOSITORY, ns, 'app');
      // The patch's answer is in (the record follows it) before the clock moves: patched is at the delivery's arrival.
      await rowsAt(gateway!, 'd-github', [`GitRepository ${ns}/app`], 'following');
      await clock.advance(2000);
      return sourceFetched(cluster, ns, 'app', commit);
    })();
    const kustomizations = [`Kustomization ${ns}/apps`, `Kustomization ${ns}/infra`];
    await rowsAt(gateway!, 'd-github', [`GitRepository ${ns}/app`], 'fetched');
    await clock.advance(4000);
    await kustomizationAt(cluster, ns, 'apps', revision);
    await kustomizationAt(cluster, ns, 'infra', revision);
    const applied = await rowsAt(gateway!, 'd-github', kustomizations, 'applied');

    const record = await recordOf(gateway!, 'd-github');
    expect(record.push).toEqual({ at: new Date(pushedAt * 1000).toISOString(), from: 'payload' });
    const pushMs = pushedAt * 1000;
    const offset = clock.now() - 6000 - pushMs; // the delivery arrived `offset` ms after the push
    expect(record.followed!.find((row) => row.object === `GitRepository ${ns}/app`)).toEqual({ object: `GitRepository ${ns}/app`, stage: 'fetched', patchedMs: offset, handledMs: offset + 2000, fetchedMs: offset + 2000, endedMs: offset + 2000, revision });
    for (const [index, row] of applied.entries()) {
      expect(row).toEqual({ object: kustomizations[index]!, via: `GitRepository ${ns}/app`, stage: 'applied', fetchedMs: offset + 2000, appliedMs: offset + 6000, endedMs: offset + 6000, revision });
    }
    // The drill-down: one row per object with its stage times counted from the push; the status page, one line each.
    const page = await (await fetch(`${gateway!.adminUrl}/deliveries/d-github`)).text();
    const cells = (...values: string[]) => values.map((value) => `<td>${value}</td>`).join('');
    expect(page).toContain(`push: ${new Date(pushMs).toISOString()} (the push time the host sent)`);
    expect(page).toContain(`<tr>${cells(`GitRepository ${ns}/app`, '', '<b class="fetched">fetched</b>', sincePush(offset), sincePush(offset + 2000), '', revision, '')}</tr>`);
    for (const object of kustomizations) {
      expect(page).toContain(`<tr>${cells(object, `GitRepository ${ns}/app`, '<b class="applied">applied</b>', '', sincePush(offset + 2000), sincePush(offset + 6000), revision, '')}</tr>`);
    }
    const statusPage = await (await fetch(`${gateway!.adminUrl}/`)).text();
    expect(statusPage).toContain(`<li>↳ Kustomization ${ns}/apps: <b class="applied">applied</b> ${sincePush(offset + 6000)}</li>`);
    const metrics = await metricsText(gateway!);
    expect(series(metrics, 'fluxgate_push_to_fetched_seconds_count')).toEqual(['{kind="GitRepository"} 1']);
    expect(series(metrics, 'fluxgate_push_to_fetched_seconds_sum')).toEqual([`{kind="GitRepository"} ${(offset + 2000) / 1000}`]);
    expect(series(metrics, 'fluxgate_push_to_applied_seconds_count')).toEqual(['{kind="Kustomization"} 2']);
    expect(series(metrics, 'fluxgate_push_to_applied_seconds_sum')).toEqual([`{kind="Kustomization"} ${(2 * (offset + 6000)) / 1000}`]);

    // On the commit: one status per object, pending then success; every request to the host authenticated and well-formed.
    await eventually('the statuses written', () => github.statuses().filter((status) => status.state === 'success').length === 3);
    const contexts = [`fluxgate/default/GitRepository/${ns}/app`, `fluxgate/default/Kustomization/${ns}/apps`, `fluxgate/default/Kustomization/${ns}/infra`];
    for (const context of contexts) expect(github.history(commit, context)).toEqual(['pending', 'success']);
    expect(github.requests.every((request) => request.method === 'POST' && request.path === `/repos/your-org/${repo}/statuses/${commit}` && request.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(github.requests).toHaveLength(6);
    await eventually('the statuses counted', async () => series(await metricsText(gateway!), 'fluxgate_commit_statuses_total').length > 0 && series(await metricsText(gateway!), 'fluxgate_commit_statuses_total')[0]!.endsWith(' 6'));
    const counted = await metricsText(gateway!);
    expect(series(counted, 'fluxgate_commit_statuses_total')).toEqual(['{type="github",outcome="sent"} 6']);
    expect(series(counted, 'fluxgate_feedback_following')).toEqual([' 0']);
    const final = github.statuses().filter((status) => status.state === 'success');
    expect(final.find((status) => status.context === contexts[1])).toEqual({
      repository: `your-org/${repo}`,
      sha: commit,
      context: contexts[1]!,
      state: 'success',
      description: `applied ${revision}, ${((offset + 6000) / 1000).toFixed(1)} s after the push`,
      targetUrl: 'https://fluxgate.example.com/deliveries/d-github',
    });
    for (const status of github.statuses()) expect(status.description.length).toBeLessThanOrEqual(140);
  }, 60_000);

  // Each host: the GitRepository's URL, the register block, the push, the request path and credential, its states.
  const HOSTS = {
    gitlab: {
      url: (repo: string) => `https://gitlab.example.com/your-org/${repo}.git`,
      apiUrl: (origin: string) => origin,
      hook: gitlabWebhook,
      path: (repo: string, commit: string) => `/api/v4/projects/${encodeURIComponent(`your-org/${repo}`)}/statuses/${commit}`,
      auth: TOKEN,
      states: ['pending', 'success'],
    },
    gitea: {
      url: (repo: string) => `https://gitea.example.com/your-org/${repo}.git`,
      apiUrl: (origin: string) => `${origin}/api/v1`,
      hook: giteaWebhook,
      path: (repo: string, commit: string) => `/api/v1/repos/your-org/${repo}/statuses/${commit}`,
      auth: `token ${TOKEN}`,
      states: ['pending', 'success'],
    },
    bitbucket: {
      url: (repo: string) => `https://bitbucket.org/your-org/${repo}.git`,
      apiUrl: (origin: string) => `${origin}/2.0`,
      hook: bitbucketWebhook,
      path: (repo: string, commit: string) => `/2.0/repositories/your-org/${repo}/commit/${commit}/statuses/build`,
      auth: `Bearer ${TOKEN}`,
      states: ['INPROGRESS', 'SUCCESSFUL'],
    },
  } as const;

  test('GitLab (through gitbeaker), Gitea and Bitbucket Cloud: pending → success for each object, on their own APIs', async () => {
    for (const kind of ['gitlab', 'gitea', 'bitbucket'] as const) {
      const rules = HOSTS[kind];
      const repo = `app-${commitSha().slice(0, 6)}`;
      const ns = await fleet(repo, rules.url(repo));
      const host = fakeHost(kind);
      const clock = manualClock(Date.now());
      const provider = { name: kind, type: kind, secret: { env: 'WEBHOOK_SECRET' }, register: { token: { value: TOKEN }, apiUrl: rules.apiUrl(host.origin) } };
      await start(feedbackConfig({ kubeconfig: cluster.kubeconfigPath, provider, repository: `your-org/${repo}`, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }), clock);
      const commit = commitSha();
      expect((await post(gateway!.hook(kind), rules.hook(SECRET, { repository: `your-org/${repo}`, commit, deliveryId: `d-${kind}` }))).status).toBe(202);
      await requestedAt(cluster, GIT_REPOSITORY, ns, 'app');
      const revision = await sourceFetched(cluster, ns, 'app', commit);
      await kustomizationAt(cluster, ns, 'apps', revision);
      await kustomizationAt(cluster, ns, 'infra', revision);
      const record = await recordOf(gateway!, `d-${kind}`);
      expect(record.push?.from).toBe('arrival'); // none of them sends a push time
      const contexts = ['GitRepository/app', 'Kustomization/apps', 'Kustomization/infra'].map((what) => `fluxgate/default/${what.split('/')[0]}/${ns}/${what.split('/')[1]}`);
      await eventually(`${kind}: three successes`, () => host.statuses().filter((status) => status.state === rules.states[1]).length === 3, { describe: () => JSON.stringify(host.requests) });
      for (const context of contexts) expect(host.history(commit, context)).toEqual([...rules.states]);
      expect(host.requests.map((request) => [request.method, request.path, request.auth])).toEqual(Array.from({ length: 6 }, () => ['POST', rules.path(repo, commit), rules.auth]));
      await gateway!.stop();
      gateway = undefined;
    }
  }, 120_000);
});

describe('what does not apply', () => {
  test('a Kustomization that fails: failure with its message, the other applied', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const github = fakeHost('github');
    const clock = manualClock(Date.now());
    await start(feedbackConfig({ kubeconfig: cluster.kubeconfigPath, provider: githubProvider(github), repository: `your-org/${repo}`, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }], feedback: { detailsUrl: 'https://fluxgate-admin.example.com/' } }), clock);
    const commit = commitSha();
    expect((await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit, deliveryId: 'd-fail' }))).status).toBe(202);
    await requestedAt(cluster, GIT_REPOSITORY, ns, 'app');
    const revision = await sourceFetched(cluster, ns, 'app', commit);
    // Longer than GitHub's 140 characters: cut there on the commit, whole in the record.
    const message = `kustomize build failed: accumulating resources: accumulation err='accumulating resources from './apps/missing': '/tmp/kustomization-1840/apps/missing' must resolve to a file'`;
    await kustomizationAt(cluster, ns, 'apps', revision, message);
    await kustomizationAt(cluster, ns, 'infra', revision);
    const [failed] = await rowsAt(gateway!, 'd-fail', [`Kustomization ${ns}/apps`], 'failed');
    expect(failed).toMatchObject({ stage: 'failed', revision, detail: `BuildFailed: ${message}` });
    await rowsAt(gateway!, 'd-fail', [`Kustomization ${ns}/infra`], 'applied');
    const context = `fluxgate/default/Kustomization/${ns}/apps`;
    await eventually('the failure on the commit', () => github.history(commit, context).includes('failure'));
    expect(github.history(commit, context)).toEqual(['pending', 'failure']);
    const status = github.statuses().find((candidate) => candidate.context === context && candidate.state === 'failure')!;
    expect(status.description).toBe(`${`BuildFailed: ${message}`.slice(0, 139)}…`);
    // feedback.detailsUrl: the link goes where the admin pages are reached, not to the webhook listener.
    expect(status.targetUrl).toBe('https://fluxgate-admin.example.com/deliveries/d-fail');
  }, 60_000);

  test('nothing happening: error at the timeout, for the source and what uses it', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const github = fakeHost('github');
    const clock = manualClock(Date.now());
    await start(feedbackConfig({ kubeconfig: cluster.kubeconfigPath, provider: githubProvider(github), repository: `your-org/${repo}`, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }], feedback: { timeout: '1m' } }), clock);
    const commit = commitSha();
    expect((await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit, deliveryId: 'd-quiet' }))).status).toBe(202);
    const objects = [`GitRepository ${ns}/app`, `Kustomization ${ns}/apps`, `Kustomization ${ns}/infra`];
    await rowsAt(gateway!, 'd-quiet', objects, 'following');
    await eventually('pending on the commit', () => github.statuses().length === 3);
    await clock.advance(59_000);
    expect((await recordOf(gateway!, 'd-quiet')).followed!.every((row) => row.stage === 'following')).toBe(true);
    await clock.advance(1000);
    const rows = await rowsAt(gateway!, 'd-quiet', objects, 'timed-out');
    expect(rows.map((row) => row.detail)).toEqual(['not fetched within 60 s (last following)', 'not applied within 60 s (last following)', 'not applied within 60 s (last following)']);
    await eventually('errors on the commit', () => github.statuses().filter((status) => status.state === 'error').length === 3);
    expect(github.history(commit, `fluxgate/default/Kustomization/${ns}/apps`)).toEqual(['pending', 'error']);
    expect(series(await metricsText(gateway!), 'fluxgate_feedback_follows_total')).toEqual(['{outcome="timed_out"} 3']);
  }, 60_000);

  test('a second push while the first is followed: the first is superseded, on the record and on its commit', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const github = fakeHost('github');
    const clock = manualClock(Date.now());
    await start(feedbackConfig({ kubeconfig: cluster.kubeconfigPath, provider: githubProvider(github), repository: `your-org/${repo}`, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }] }), clock);
    const [first, second] = [commitSha(), commitSha()];
    expect((await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit: first, deliveryId: 'd-first' }))).status).toBe(202);
    const firstValue = await requestedAt(cluster, GIT_REPOSITORY, ns, 'app');
    await eventually('pending for the first commit', () => github.statuses().length === 3);
    await clock.advance(200); // past the debounce window: the second push is its own patch
    expect((await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit: second, deliveryId: 'd-second' }))).status).toBe(202);
    await requestedAt(cluster, GIT_REPOSITORY, ns, 'app', firstValue);
    const objects = [`GitRepository ${ns}/app`, `Kustomization ${ns}/apps`, `Kustomization ${ns}/infra`];
    const superseded = await rowsAt(gateway!, 'd-first', objects, 'superseded');
    expect(superseded.map((row) => row.detail)).toEqual(Array.from({ length: 3 }, () => `superseded by ${second.slice(0, 12)}`));
    const revision = await sourceFetched(cluster, ns, 'app', second);
    await kustomizationAt(cluster, ns, 'apps', revision);
    await kustomizationAt(cluster, ns, 'infra', revision);
    await rowsAt(gateway!, 'd-second', objects.slice(1), 'applied');
    await eventually('three successes on the second commit', () => github.statuses().filter((status) => status.sha === second && status.state === 'success').length === 3);
    for (const object of ['GitRepository/app', 'Kustomization/apps', 'Kustomization/infra']) {
      const [kind, name] = object.split('/');
      expect(github.history(first, `fluxgate/default/${kind}/${ns}/${name}`)).toEqual(['pending', 'error']);
      expect(github.history(second, `fluxgate/default/${kind}/${ns}/${name}`)).toEqual(['pending', 'success']);
    }
    expect(github.statuses().find((status) => status.sha === first && status.state === 'error')!.description).toBe(`superseded by ${second.slice(0, 12)}`);
  }, 60_000);
});

describe('two clusters', () => {
  test('one status per cluster and object; each cluster followed on its own', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const github = fakeHost('github');
    const clock = manualClock(Date.now());
    const second = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'second' });
    const config = feedbackConfig({
      clusters: [{ name: 'prod-eu', kubeconfig: cluster.kubeconfigPath }, { name: 'prod-us', kubeconfig: second }],
      provider: githubProvider(github),
      repository: `your-org/${repo}`,
      resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }],
    });
    await start(config, clock);
    const commit = commitSha();
    expect((await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit, deliveryId: 'd-fleet' }))).status).toBe(202);
    await requestedAt(cluster, GIT_REPOSITORY, ns, 'app');
    const objects = ['prod-eu', 'prod-us'].flatMap((name) => [`${name}: GitRepository ${ns}/app`, `${name}: Kustomization ${ns}/apps`, `${name}: Kustomization ${ns}/infra`]);
    await rowsAt(gateway!, 'd-fleet', objects.filter((object) => object.includes('GitRepository')), 'following');
    const revision = await sourceFetched(cluster, ns, 'app', commit);
    await kustomizationAt(cluster, ns, 'apps', revision);
    await kustomizationAt(cluster, ns, 'infra', revision);
    await rowsAt(gateway!, 'd-fleet', objects.filter((object) => object.includes('Kustomization')), 'applied');
    // The drill-down names each object's cluster, in the patches' table and the followed one.
    const page = await (await fetch(`${gateway!.adminUrl}/deliveries/d-fleet`)).text();
    for (const name of ['prod-eu', 'prod-us']) expect(page).toContain(`<tr><td>${name}: GitRepository ${ns}/app</td><td><b class="patched">patched</b></td>`);
    await eventually('six successes', () => github.statuses().filter((status) => status.state === 'success').length === 6);
    const contexts = [...new Set(github.statuses().map((status) => status.context))].sort();
    expect(contexts).toEqual(['prod-eu', 'prod-us'].flatMap((name) => [`fluxgate/${name}/GitRepository/${ns}/app`, `fluxgate/${name}/Kustomization/${ns}/apps`, `fluxgate/${name}/Kustomization/${ns}/infra`]));
    for (const context of contexts) expect(github.history(commit, context)).toEqual(['pending', 'success']);
    const metrics = await metricsText(gateway!);
    expect(series(metrics, 'fluxgate_push_to_applied_seconds_count')).toEqual(['{cluster="prod-eu",kind="Kustomization"} 2', '{cluster="prod-us",kind="Kustomization"} 2']);
  }, 60_000);
});

describe('RBAC for following', () => {
  /** The rules of every ClusterRole in a deploy/ file. */
  const rulesOf = (file: string) => parseAllDocuments(readFileSync(join(import.meta.dir, '../../deploy', file), 'utf8')).map((document) => document.toJS()).filter((object) => object?.kind === 'ClusterRole').flatMap((role) => role.rules);

  /** A kubeconfig of the test user bound to a ClusterRole with `rules`. */
  async function userWith(name: string, rules: unknown[]): Promise<string> {
    await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules });
    await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [cluster.userSubjects.fluxgate] });
    return cluster.writeKubeconfig({ token: cluster.userTokens.fluxgate!, context: name });
  }

  async function checked(kubeconfig: string, ns: string, repo: string): Promise<string[]> {
    await start(feedbackConfig({ kubeconfig, provider: { name: 'github', type: 'github', secret: { env: 'WEBHOOK_SECRET' } }, repository: `your-org/${repo}`, resources: [{ kind: 'GitRepository', name: 'app', namespace: ns }], feedback: { commitStatus: false } }), manualClock(Date.now()));
    await eventually('the start-up permission check', () => gateway!.log.lines.some((line) => line.msg === 'kubernetes permissions checked'));
    return gateway!.log.lines.filter((line) => line.level === 'warn' && line.msg.startsWith('the Kubernetes credentials may not')).map((line) => line.msg).sort();
  }

  test('the base ClusterRole with deploy/rbac/feedback: nothing missing, and a push is followed to applied', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const kubeconfig = await userWith('fluxgate-feedback-test', [...rulesOf('rbac/clusterrole.yaml'), ...rulesOf('rbac/feedback/clusterrole.yaml')]);
    expect(await checked(kubeconfig, ns, repo)).toEqual([]);
    const commit = commitSha();
    expect((await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit, deliveryId: 'd-rbac' }))).status).toBe(202);
    const revision = await sourceFetched(cluster, ns, 'app', commit);
    await kustomizationAt(cluster, ns, 'apps', revision);
    await kustomizationAt(cluster, ns, 'infra', revision);
    await rowsAt(gateway!, 'd-rbac', [`Kustomization ${ns}/apps`, `Kustomization ${ns}/infra`], 'applied');
    await cluster.request('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fluxgate-feedback-test');
  }, 60_000);

  test('the base ClusterRole alone: the start-up check names the get and watch following lacks on each followed kind', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const kubeconfig = await userWith('fluxgate-feedback-none', rulesOf('rbac/clusterrole.yaml'));
    const warnings = await checked(kubeconfig, ns, repo);
    const kinds = ['Application', 'Bucket', 'GitRepository', 'HelmRelease', 'HelmRepository', 'Kustomization', 'OCIRepository'];
    // The base role lists every one of these kinds already (matchLabels): following adds get and watch.
    const expected = kinds.flatMap((kind) => ['get', 'watch'].map((verb) => `the Kubernetes credentials may not ${verb} ${kind} in ${ns}: following cannot see how far a push got on it (deploy/rbac/feedback)`));
    expect(warnings).toEqual(expected.sort());
    await cluster.request('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fluxgate-feedback-none');
  }, 60_000);
});

describe('an Argo CD Application', () => {
  test('applied once sync.revision is the commit and the operation Succeeded, its health beside; on the commit too', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await freshNamespace(cluster, 'fb');
    await applyAll(cluster, [{ apiVersion: APPLICATION.apiVersion, kind: 'Application', metadata: { name: 'web', namespace: ns }, spec: { source: { repoURL: `https://github.com/your-org/${repo}.git`, targetRevision: 'main' } } }]);
    const github = fakeHost('github');
    const clock = manualClock(Date.now());
    await start(feedbackConfig({ kubeconfig: cluster.kubeconfigPath, provider: githubProvider(github), repository: `your-org/${repo}`, resources: [{ kind: 'Application', name: 'web', namespace: ns }] }), clock);
    const [older, commit] = [commitSha(), commitSha()];
    // Argo CD's application controller: still on the older commit when the push arrives.
    await writeStatus(cluster, APPLICATION, ns, 'web', { sync: { status: 'Synced', revision: older }, health: { status: 'Healthy' }, operationState: { phase: 'Succeeded', syncResult: { revision: older } } });
    expect((await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit, deliveryId: 'd-argo' }))).status).toBe(202);
    await rowsAt(gateway!, 'd-argo', [`Application ${ns}/web`], 'following');
    await writeStatus(cluster, APPLICATION, ns, 'web', { sync: { status: 'OutOfSync', revision: older }, health: { status: 'Progressing' }, operationState: { phase: 'Running', operation: { sync: { revision: commit } } } });
    await clock.advance(3000);
    await writeStatus(cluster, APPLICATION, ns, 'web', { sync: { status: 'Synced', revision: commit }, health: { status: 'Healthy' }, operationState: { phase: 'Succeeded', syncResult: { revision: commit } } });
    const [row] = await rowsAt(gateway!, 'd-argo', [`Application ${ns}/web`], 'applied');
    expect(row).toMatchObject({ stage: 'applied', revision: commit, health: 'Healthy' });
    expect(row!.appliedMs! - row!.patchedMs!).toBe(3000);
    const context = `fluxgate/default/Application/${ns}/web`;
    await eventually('success on the commit', () => github.history(commit, context).includes('success'));
    expect(github.history(commit, context)).toEqual(['pending', 'success']);
    expect(series(await metricsText(gateway!), 'fluxgate_push_to_applied_seconds_count')).toEqual(['{kind="Application"} 1']);
  }, 60_000);
});

describe('discovery', () => {
  test('a GitRepository found by discovery is followed like a configured one, with what applies it', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const github = fakeHost('github');
    const clock = manualClock(Date.now());
    await start(feedbackConfig({ kubeconfig: cluster.kubeconfigPath, provider: githubProvider(github), repository: `your-org/${repo}`, resources: [], discovery: { kinds: ['GitRepository'] } }), clock);
    await eventually('discovery listed', async () => (await fetch(`${gateway!.adminUrl}/readyz`)).status === 200);
    const commit = commitSha();
    const answer = await post(gateway!.hook('github'), githubWebhook(SECRET, { repository: `your-org/${repo}`, commit, deliveryId: 'd-discovered' }));
    expect(await answer.json()).toMatchObject({ discovered: 1 });
    const revision = await sourceFetched(cluster, ns, 'app', commit);
    await kustomizationAt(cluster, ns, 'apps', revision);
    await kustomizationAt(cluster, ns, 'infra', revision);
    await rowsAt(gateway!, 'd-discovered', [`Kustomization ${ns}/apps`, `Kustomization ${ns}/infra`], 'applied');
    expect((await rowsAt(gateway!, 'd-discovered', [`GitRepository ${ns}/app`], 'fetched'))[0]).toMatchObject({ revision });
    await eventually('three successes', () => github.statuses().filter((status) => status.state === 'success').length === 3);
  }, 60_000);
});

describe('Flux Receivers', () => {
  test('a Receiver’s resources are followed, and reported on the commit with the token of a provider of its type', async () => {
    const repo = `app-${commitSha().slice(0, 6)}`;
    const ns = await fleet(repo);
    const token = `receiver-${commitSha().slice(0, 12)}`;
    await applyAll(cluster, [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'receiver-token', namespace: ns }, type: 'Opaque', data: { token: Buffer.from(token).toString('base64') } },
      { apiVersion: 'notification.toolkit.fluxcd.io/v1', kind: 'Receiver', metadata: { name: 'github-receiver', namespace: ns }, spec: { type: 'github', events: ['push'], secretRef: { name: 'receiver-token' }, resources: [{ kind: 'GitRepository', name: 'app' }] } },
    ]);
    const github = fakeHost('github');
    // No target: the Receiver's resource is what is patched; the provider lends its register token to the statuses.
    const config = toYaml({
      server: { address: '127.0.0.1:0', shutdownTimeout: '3s' },
      kubernetes: { mode: 'kubeconfig', kubeconfig: cluster.kubeconfigPath, requestTimeout: '5s' },
      reconcile: { debounce: '100ms' },
      state: { store: 'memory' },
      providers: [{ name: 'github', type: 'github', secret: { env: 'WEBHOOK_SECRET' }, register: { token: { value: TOKEN }, apiUrl: github.origin } }],
      fluxReceivers: { enabled: true, namespaces: [ns] },
      feedback: { enabled: true, commitStatus: true },
    });
    await start(config, manualClock(Date.now()));
    const path = `/hook/${createHash('sha256').update(`${token}github-receiver${ns}`).digest('hex')}`;
    const commit = commitSha();
    await eventually('the Receiver served', async () => (await fetch(`${gateway!.url}${path}`)).status === 405, { timeoutMs: 15_000 });
    expect((await post(`${gateway!.url}${path}`, githubWebhook(token, { repository: `your-org/${repo}`, commit, deliveryId: 'd-receiver' }))).status).toBe(202);
    const revision = await sourceFetched(cluster, ns, 'app', commit);
    await kustomizationAt(cluster, ns, 'apps', revision);
    await kustomizationAt(cluster, ns, 'infra', revision);
    await rowsAt(gateway!, 'd-receiver', [`Kustomization ${ns}/apps`, `Kustomization ${ns}/infra`], 'applied');
    await eventually('three successes', () => github.statuses().filter((status) => status.state === 'success').length === 3, { describe: () => JSON.stringify(github.requests) });
    expect(github.history(commit, `fluxgate/default/GitRepository/${ns}/app`)).toEqual(['pending', 'success']);
  }, 60_000);
});
