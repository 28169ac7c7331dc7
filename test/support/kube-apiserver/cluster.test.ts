import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startTestCluster, type TestCluster } from './cluster.ts';

let cluster: TestCluster;

// Cold (first) run builds kube-apiserver from source: allow for it here.
beforeAll(async () => {
  cluster = await startTestCluster();
}, 15 * 60_000);

afterAll(async () => {
  await cluster?.stop();
}, 30_000);

const NS = `fluxgate-test-${Date.now().toString(36)}`;
const GIT_REPO = 'source.toolkit.fluxcd.io/v1';

test('creates, patches and reads back a GitRepository', async () => {
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const created = await cluster.apply({
    apiVersion: GIT_REPO,
    kind: 'GitRepository',
    metadata: { name: 'podinfo', namespace: NS },
    spec: { url: 'https://example.invalid/podinfo.git', interval: '5m', ref: { branch: 'main' } },
  });
  expect(created.metadata.uid).toBeString();

  const requestedAt = new Date().toISOString();
  const patched = await cluster.request(
    'PATCH',
    `/apis/${GIT_REPO}/namespaces/${NS}/gitrepositories/podinfo`,
    { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': requestedAt } } },
    'application/merge-patch+json',
  );
  expect(patched.status).toBe(200);

  const read = await cluster.get(GIT_REPO, 'gitrepositories', NS, 'podinfo');
  expect(read.metadata.annotations['reconcile.fluxcd.io/requestedAt']).toBe(requestedAt);
  expect(read.spec.url).toBe('https://example.invalid/podinfo.git');
  expect(await cluster.get(GIT_REPO, 'gitrepositories', NS, 'missing')).toBeNull();
});

test('every CRD kind is served', async () => {
  const kinds: [string, string][] = [
    ['source.toolkit.fluxcd.io/v1', 'gitrepositories'],
    ['source.toolkit.fluxcd.io/v1', 'ocirepositories'],
    ['source.toolkit.fluxcd.io/v1', 'helmrepositories'],
    ['source.toolkit.fluxcd.io/v1', 'buckets'],
    ['source.toolkit.fluxcd.io/v1', 'helmcharts'],
    ['source.toolkit.fluxcd.io/v1', 'externalartifacts'],
    ['kustomize.toolkit.fluxcd.io/v1', 'kustomizations'],
    ['helm.toolkit.fluxcd.io/v2', 'helmreleases'],
    ['image.toolkit.fluxcd.io/v1', 'imagerepositories'],
    ['image.toolkit.fluxcd.io/v1', 'imagepolicies'],
    ['image.toolkit.fluxcd.io/v1', 'imageupdateautomations'],
    ['argoproj.io/v1alpha1', 'applications'],
  ];
  for (const [apiVersion, plural] of kinds) {
    const res = await cluster.request('GET', `/apis/${apiVersion}/namespaces/default/${plural}`);
    expect(`${plural}: ${res.status}`).toBe(`${plural}: 200`);
  }
});

test('rejects unauthorized users: 403 for nobody, 401 for a wrong token', async () => {
  const path = `/apis/${GIT_REPO}/namespaces/default/gitrepositories`;
  const as = (token: string) =>
    fetch(cluster.server + path, { headers: { Authorization: `Bearer ${token}` }, tls: { ca: cluster.caPem } });

  const nobody = cluster.userTokens.nobody;
  expect(nobody).toBeString();
  expect((await as(nobody!)).status).toBe(403);
  expect((await as('not-a-valid-token')).status).toBe(401);
});

test('writes a kubeconfig for a user token', async () => {
  const path = cluster.writeKubeconfig({ token: cluster.userTokens.fluxgate!, context: 'fluxgate' });
  const text = await Bun.file(path).text();
  expect(text).toContain(cluster.server);
  expect(text).toContain('certificate-authority-data');
  expect(text).toContain(cluster.userTokens.fluxgate!);
});
