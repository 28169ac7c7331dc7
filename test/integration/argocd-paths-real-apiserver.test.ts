/**
 * Discovered Argo CD Applications with `argocd.argoproj.io/manifest-generate-paths`, against the REAL kube-apiserver:
 * signed GitHub pushes that change given files refresh (`argocd.argoproj.io/refresh: normal`, read back from the API
 * server) exactly the Applications argocd-server's own /api/webhook would refresh — relative paths under the
 * source's path, `.`, absolute paths, patterns, the source of several that holds the change — and no other.
 */
import { afterEach, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { deliveryBody, githubPushWith, post } from '../support/webhooks.ts';
import { deliveries, discoveryConfig, freshRepository, readyz } from './discovery-support.ts';
import { APPLICATION, ARGO_REFRESH, GITHUB_SECRET, annotationsOf, applyAll, eventually, freshNamespace, outcomeReaches, startGateway } from './support.ts';

let cluster: TestCluster;
let gateway: TestGateway | undefined;

clusterForFile((started) => void (cluster = started));
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
}, 30_000);

/** A signed GitHub push to main of `your-org/<repo>` whose one commit changed `files`. */
async function pushChanging(repo: string, files: string[]): Promise<{ status: number; body: any }> {
  const published = JSON.parse(new TextDecoder().decode(deliveryBody('github/push-new-branch.json', { repository: `your-org/${repo}`, branch: 'main' })));
  const delivery = githubPushWith(GITHUB_SECRET, (payload) => {
    Object.assign(payload, published);
    payload.commits[0].added = [];
    payload.commits[0].modified = files;
    payload.commits[0].removed = [];
    payload.head_commit = payload.commits[0];
  });
  const response = await post(gateway!.hook('github'), delivery);
  return { status: response.status, body: await response.json() };
}

test('a push refreshes the Applications whose manifest-generate-paths hold a changed file, and those without the annotation', async () => {
  const repo = freshRepository();
  const ns = await freshNamespace(cluster, 'argo-paths');
  const url = `https://github.com/your-org/${repo}.git`;
  const source = (path: string, targetRevision = 'main') => ({ repoURL: url, targetRevision, path });
  const application = (name: string, annotation: string | undefined, spec: Record<string, unknown>) => ({
    apiVersion: APPLICATION.apiVersion,
    kind: APPLICATION.kind,
    metadata: { name, namespace: ns, ...(annotation !== undefined ? { annotations: { 'argocd.argoproj.io/manifest-generate-paths': annotation } } : {}) },
    spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: 'default' }, ...spec },
  });
  await applyAll(cluster, [
    application('web', '.', { source: source('apps/web') }),
    application('web-parent', '..', { source: source('apps/web/prod') }),
    application('api', '.;/shared', { source: source('apps/api') }),
    application('values', '/apps/*/values.yaml', { source: source('apps/values') }),
    application('plain', undefined, { source: source('apps/plain') }),
    application('two-sources', '.', { sources: [source('apps/api-config'), source('apps/web')] }),
    application('release', '.', { source: source('apps/web', 'release') }),
  ]);
  gateway = await startGateway(discoveryConfig({ kubeconfig: cluster.kubeconfigPath, discovery: { namespaces: [ns], kinds: ['Application'] } }));
  await eventually('/readyz after the first list', async () => (await readyz(gateway!)).status === 200);

  expect(await pushChanging(repo, ['apps/web/deployment.yaml'])).toMatchObject({ status: 202, body: { discovered: 4 } });
  await outcomeReaches(gateway!, 'Application', 'success', 4);
  const refreshed: string[] = [];
  for (const name of ['web', 'web-parent', 'api', 'values', 'plain', 'two-sources', 'release']) {
    if ((await annotationsOf(cluster, APPLICATION, ns, name))[ARGO_REFRESH] === 'normal') refreshed.push(name);
  }
  expect(refreshed).toEqual(['web', 'web-parent', 'plain', 'two-sources']);
  const [first] = await deliveries(gateway!);
  expect(first!.nearMisses).toEqual(
    expect.arrayContaining([
      `Application ${ns}/api: no changed path in argocd.argoproj.io/manifest-generate-paths ".;/shared"`,
      `Application ${ns}/values: no changed path in argocd.argoproj.io/manifest-generate-paths "/apps/*/values.yaml"`,
      `Application ${ns}/release: follows revision release, not branch main`,
    ]),
  );

  // Which objects each later push concerns, from its record (the annotation above stays once set).
  const concerned = async (files: string[]) => {
    const answer = await pushChanging(repo, files);
    expect(answer.status).toBe(202);
    const [latest] = await deliveries(gateway!);
    return latest!.objects.map((object) => object.object.replace(`Application ${ns}/`, '')).sort();
  };
  expect(await concerned(['shared/base/kustomization.yaml'])).toEqual(['api', 'plain']);
  expect(await concerned(['apps/billing/values.yaml'])).toEqual(['plain', 'values']);
  expect(await concerned(['apps/web/overlays/staging/patch.yaml'])).toEqual(['plain', 'two-sources', 'web', 'web-parent']);
  expect(await pushChanging(repo, ['docs/readme.md'])).toMatchObject({ status: 202, body: { discovered: 1 } });
}, 90_000);
