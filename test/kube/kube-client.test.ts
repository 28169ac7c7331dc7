/**
 * KubeClient against the fake API server over real HTTPS on loopback: TLS (CA, skip-verify, server name, client
 * certificates), authentication, discovery, list by label, merge patch and every failure class.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer } from 'node:net';
import { KubeError, createKubeClient, labelSelector, parseRetryAfter, type KubeClient, type KubeClientOptions } from '../../src/kube/client.ts';
import { startElsewhere } from '../support/elsewhere.ts';
import { startFakeKubeApiServer, unrelatedCaPem, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';

const SOURCE = 'source.toolkit.fluxcd.io/v1';
const IMAGE = 'image.toolkit.fluxcd.io/v1';
const gitRepo = (name: string) => ({ apiVersion: SOURCE, kind: 'GitRepository', namespace: 'flux-system', name });

let kube: FakeKubeApiServer;
let otherCa: string;

beforeAll(async () => {
  [kube, otherCa] = await Promise.all([startFakeKubeApiServer(), unrelatedCaPem()]);
  kube.addObject(gitRepo('app'));
  kube.addObject(gitRepo('infra'));
});
afterAll(() => kube.stop());

const client = (o: Partial<KubeClientOptions> = {}) =>
  createKubeClient({ server: kube.url, caPem: kube.caPem, token: async () => kube.token, timeoutMs: 3000, ...o });

/** The KubeError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubeError);
    return e as KubeError;
  }
  throw new Error('expected a KubeError, got success');
}

describe('TLS', () => {
  test('the right CA is trusted', async () => {
    await client().ping();
  });

  test('a wrong CA is a tls failure that says what to check', async () => {
    const e = await failure(client({ caPem: otherCa }).ping());
    expect(e.failure).toBe('tls');
    expect(e.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(e.message).toContain(`certificate verify failed talking to ${kube.url}`);
    expect(e.message).toContain('unable to verify the first certificate');
    expect(e.message).toContain('check certificate-authority in the kubeconfig');
  });

  test('without a CA the system trust store does not know the fake CA', async () => {
    const e = await failure(client({ caPem: undefined }).ping());
    expect(e.failure).toBe('tls');
  });

  test('skipTlsVerify accepts the certificate, with or without a (wrong) CA', async () => {
    await client({ caPem: undefined, skipTlsVerify: true }).ping();
    await client({ caPem: otherCa, skipTlsVerify: true }).ping();
  });

  test('the certificate is checked against the host name', async () => {
    await client({ server: kube.url.replace('127.0.0.1', 'localhost') }).ping();
    await client({ tlsServerName: 'kubernetes.default.svc' }).ping();
    const e = await failure(client({ tlsServerName: 'wrong.example.com' }).ping());
    expect(e.failure).toBe('tls');
    expect(e.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(e.message).toContain('tls-server-name');
  });

  test('invalid PEM material is refused up front with a clear message', () => {
    expect(() => client({ caPem: 'not a pem' })).toThrow('certificate-authority is not a PEM certificate');
    expect(() => client({ certPem: kube.clientCertPem })).toThrow('needs both the certificate and its key');
    expect(() => client({ certPem: kube.caPem, keyPem: kube.clientKeyPem })).toThrow('client-key does not belong to client-certificate');
    expect(() => client({ certPem: kube.clientCertPem, keyPem: 'garbage' })).toThrow('client-key is not a valid PEM private key');
  });
});

describe('authentication', () => {
  test('the bearer token is sent', async () => {
    await client().mergePatch(gitRepo('app'), { 'reconcile.fluxcd.io/requestedAt': 'token-check' });
    expect(kube.patches.at(-1)!.authorization).toBe(`Bearer ${kube.token}`);
  });

  test('a token is asked for on every request (it may rotate)', async () => {
    let calls = 0;
    const c = client({ token: async () => (++calls, kube.token) });
    await c.ping();
    await c.ping();
    expect(calls).toBe(2);
  });

  test('a wrong token is unauthorized, and the token is not in the message', async () => {
    const e = await failure(client({ token: async () => 'wrong-secret-token' }).ping());
    expect(e.failure).toBe('unauthorized');
    expect(e.status).toBe(401);
    expect(e.message).toContain('credentials were rejected');
    expect(e.message).not.toContain('wrong-secret-token');
    expect(e.message).not.toContain(kube.token);
  });

  test('no credentials at all is unauthorized', async () => {
    const e = await failure(client({ token: undefined }).listNames(SOURCE, 'GitRepository', 'flux-system', {}));
    expect(e.failure).toBe('unauthorized');
  });

  test('a failing token source is unauthorized', async () => {
    const e = await failure(client({ token: async () => { throw new Error('exec plugin exited 1'); } }).ping());
    expect(e.failure).toBe('unauthorized');
    expect(e.message).toContain('exec plugin exited 1');
  });

  describe('client certificates', () => {
    let strict: FakeKubeApiServer;
    beforeAll(async () => {
      strict = await startFakeKubeApiServer({ requireClientCert: true });
      strict.addObject(gitRepo('app'));
    });
    afterAll(() => strict.stop());

    test('a client certificate authenticates (Bun fetch presents it)', async () => {
      const c = createKubeClient({ server: strict.url, caPem: strict.caPem, certPem: strict.clientCertPem, keyPem: strict.clientKeyPem, timeoutMs: 3000 });
      await c.ping();
      await c.mergePatch(gitRepo('app'), { 'reconcile.fluxcd.io/requestedAt': 'cert' });
      expect(strict.patches.at(-1)!.authorization).toBeNull();
      expect(strict.object(SOURCE, 'GitRepository', 'flux-system', 'app').metadata.annotations).toEqual({ 'reconcile.fluxcd.io/requestedAt': 'cert' });
    });

    test('without the certificate the same server refuses', async () => {
      const c = createKubeClient({ server: strict.url, caPem: strict.caPem, token: async () => strict.token, timeoutMs: 3000 });
      expect((await failure(c.ping())).failure).toBe('unauthorized');
    });
  });
});

describe('discovery', () => {
  const discoveryRequests = (gv: string) => kube.requests.filter((r) => r.method === 'GET' && r.path === `/apis/${gv}`).length;
  /** The URL path the client PATCHes for an object of this kind (the object need not exist). */
  async function patchPath(c: KubeClient, apiVersion: string, kind: string, namespace = 'flux-system'): Promise<string> {
    const before = kube.requests.length;
    await c.mergePatch({ apiVersion, kind, namespace, name: 'x' }, { a: 'b' }).catch((e: unknown) => {
      if (e instanceof KubeError && e.status === 404 && !e.message.includes('not found')) throw e;
    });
    const sent = kube.requests.slice(before).find((r) => r.method === 'PATCH');
    if (!sent) throw new Error('no PATCH was sent');
    return sent.path;
  }

  test('plurals come from the API server: ImagePolicy → imagepolicies', async () => {
    const c = client();
    expect(await patchPath(c, IMAGE, 'ImagePolicy')).toBe(`/apis/${IMAGE}/namespaces/flux-system/imagepolicies/x`);
    expect(await patchPath(c, IMAGE, 'ImageUpdateAutomation')).toEndWith('/imageupdateautomations/x');
    expect(await patchPath(c, SOURCE, 'GitRepository')).toEndWith('/gitrepositories/x');
    expect(await patchPath(c, 'helm.toolkit.fluxcd.io/v2', 'HelmRelease')).toEndWith('/helmreleases/x');
    expect(await patchPath(c, 'argoproj.io/v1alpha1', 'Application')).toEndWith('/applications/x');
  });

  test('the core group is /api/v1, and cluster-scoped kinds have no namespace in the path', async () => {
    const c = client();
    expect(await patchPath(c, 'v1', 'ConfigMap')).toBe('/api/v1/namespaces/flux-system/configmaps/x');
    expect(await patchPath(c, 'v1', 'Namespace')).toBe('/api/v1/namespaces/x');
    expect(kube.requests.some((r) => r.path === '/api/v1')).toBe(true);
  });

  test('results are cached per group/version and concurrent callers share one request', async () => {
    const gv = 'kustomize.toolkit.fluxcd.io/v1';
    const before = discoveryRequests(gv);
    const c = client();
    const paths = await Promise.all(Array.from({ length: 10 }, () => patchPath(c, gv, 'Kustomization')));
    await c.listNames(gv, 'Kustomization', 'flux-system', { app: 'x' });
    expect(paths.every((path) => path.endsWith('/kustomizations/x'))).toBe(true);
    expect(discoveryRequests(gv) - before).toBe(1);
  });

  test('failures are not cached', async () => {
    const gv = 'helm.toolkit.fluxcd.io/v2';
    const c = client();
    kube.injectFaults({ method: 'GET', path: `/apis/${gv}` }, [{ status: 503 }]);
    const before = discoveryRequests(gv);
    expect((await failure(c.listNames(gv, 'HelmRelease', 'flux-system', {}))).status).toBe(503);
    expect(await patchPath(c, gv, 'HelmRelease')).toEndWith('/helmreleases/x');
    expect(discoveryRequests(gv) - before).toBe(2);
  });

  test('an unknown kind is named with its group/version, and nothing is sent for it', async () => {
    const before = kube.requests.filter((r) => r.method === 'PATCH').length;
    const e = await failure(client().mergePatch({ apiVersion: IMAGE, kind: 'ImagePolicies', namespace: 'flux-system', name: 'x' }, { a: 'b' }));
    expect(e.message).toBe(`kind ImagePolicies not served by ${IMAGE}`);
    expect(e.failure).toBe('http');
    expect(e.status).toBe(404);
    expect(kube.requests.filter((r) => r.method === 'PATCH').length).toBe(before);
  });

  test('a group/version the server lacks says so', async () => {
    const e = await failure(client().listNames('example.com/v1', 'Widget', 'default', {}));
    expect(e.status).toBe(404);
    expect(e.message).toContain('example.com/v1 is not served');
  });

  test('subresources (gitrepositories/status) are not mistaken for the resource', async () => {
    expect(await patchPath(client(), SOURCE, 'GitRepository')).toEndWith('/gitrepositories/x');
  });
});

describe('listNames', () => {
  beforeAll(() => {
    const ks = (name: string, namespace: string, labels: Record<string, string>) =>
      kube.addObject({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace, name, labels });
    ks('web', 'flux-system', { app: 'my-app', tier: 'web' });
    ks('db', 'flux-system', { app: 'my-app', tier: 'db' });
    ks('other', 'flux-system', { app: 'other-app', tier: 'web' });
    ks('elsewhere', 'apps', { app: 'my-app', tier: 'web' });
  });

  test('selects by every label, in the namespace only', async () => {
    const c = client();
    expect((await c.listNames('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', { app: 'my-app' })).sort()).toEqual(['db', 'web']);
    expect(await c.listNames('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', { tier: 'web', app: 'my-app' })).toEqual(['web']);
    expect(await c.listNames('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'apps', { app: 'my-app' })).toEqual(['elsewhere']);
    expect(await c.listNames('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', { app: 'nothing' })).toEqual([]);
  });

  test('the labelSelector is encoded in the query string', async () => {
    await client().listNames('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', { 'app.kubernetes.io/name': 'my-app', tier: 'web' });
    const last = kube.requests.filter((r) => r.path.startsWith('/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations?')).at(-1)!;
    const query = new URL(last.path, 'https://x').searchParams;
    expect(query.get('labelSelector')).toBe('app.kubernetes.io/name=my-app,tier=web');
    expect(last.path).toContain('labelSelector=app.kubernetes.io%2Fname%3Dmy-app%2Ctier%3Dweb');
  });

  test('labels Kubernetes would reject are refused before sending', () => {
    expect(() => labelSelector({ 'a,b': 'c' })).toThrow('invalid label key');
    expect(() => labelSelector({ a: 'x,y=z' })).toThrow('invalid label value');
    expect(labelSelector({})).toBe('');
  });
});

describe('mergePatch', () => {
  test('sends exactly a JSON merge patch of the annotations, no resourceVersion', async () => {
    const before = kube.patches.length;
    const annotations = { 'reconcile.fluxcd.io/requestedAt': '2026-11-25T10:11:12.123456789Z' };
    await client().mergePatch(gitRepo('infra'), annotations);
    expect(kube.patches.length).toBe(before + 1);
    const p = kube.patches.at(-1)!;
    expect(p.method).toBe('PATCH');
    expect(p.path).toBe('/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/infra');
    expect(p.contentType).toBe('application/merge-patch+json');
    expect(p.body).toEqual({ metadata: { annotations } });
    expect(JSON.stringify(p.body)).toBe(JSON.stringify({ metadata: { annotations } }));
    const stored = kube.object(SOURCE, 'GitRepository', 'flux-system', 'infra');
    expect(stored.metadata.annotations).toEqual(annotations);
  });

  test('a second patch replaces the value and keeps other annotations', async () => {
    const c = client();
    await c.mergePatch(gitRepo('infra'), { 'example.com/keep': 'yes' });
    await c.mergePatch(gitRepo('infra'), { 'reconcile.fluxcd.io/requestedAt': 'second' });
    expect(kube.object(SOURCE, 'GitRepository', 'flux-system', 'infra').metadata.annotations).toEqual({
      'reconcile.fluxcd.io/requestedAt': 'second',
      'example.com/keep': 'yes',
    });
  });

  test('a missing object is http 404 with the API server message', async () => {
    const e = await failure(client().mergePatch(gitRepo('gone'), { a: 'b' }));
    expect(e.failure).toBe('http');
    expect(e.status).toBe(404);
    expect(e.message).toContain('gitrepositories.source.toolkit.fluxcd.io "gone" not found');
  });

  test('RBAC refusal is http 403 with the API server message', async () => {
    const server = await startFakeKubeApiServer();
    try {
      server.addObject({ apiVersion: IMAGE, kind: 'ImagePolicy', namespace: 'flux-system', name: 'p' });
      server.forbid('ImagePolicy');
      const c = createKubeClient({ server: server.url, caPem: server.caPem, token: async () => server.token, timeoutMs: 3000 });
      const e = await failure(c.mergePatch({ apiVersion: IMAGE, kind: 'ImagePolicy', namespace: 'flux-system', name: 'p' }, { a: 'b' }));
      expect(e.status).toBe(403);
      expect(e.failure).toBe('http');
      expect(e.message).toContain('cannot patch resource "imagepolicies"');
      expect(server.patches).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  test('the fake refuses other content types like the real server (415)', async () => {
    const res = await fetch(`${kube.url}/apis/${SOURCE}/namespaces/flux-system/gitrepositories/app`, {
      method: 'PATCH', body: '{}', headers: { Authorization: `Bearer ${kube.token}`, 'Content-Type': 'application/strategic-merge-patch+json' },
      tls: { ca: kube.caPem },
    } as RequestInit);
    expect(res.status).toBe(415);
    expect(((await res.json()) as { reason: string }).reason).toBe('UnsupportedMediaType');
  });
});

describe('failures', () => {
  const path = '/gitrepositories/app';

  test('429 with Retry-After seconds → http 429 with retryAfterMs', async () => {
    kube.injectFaults({ method: 'PATCH', path }, [{ status: 429, retryAfter: '2' }]);
    const before = kube.patches.length;
    const e = await failure(client().mergePatch(gitRepo('app'), { a: 'b' }));
    expect(e.failure).toBe('http');
    expect(e.status).toBe(429);
    expect(e.retryAfterMs).toBe(2000);
    expect(kube.patches.length).toBe(before + 1); // faulted patches are recorded too
  });

  test('Retry-After as an HTTP-date', async () => {
    kube.injectFaults({ method: 'PATCH', path }, [{ status: 429, retryAfter: new Date(Date.now() + 5000).toUTCString() }]);
    const e = await failure(client().mergePatch(gitRepo('app'), { a: 'b' }));
    expect(e.retryAfterMs).toBeGreaterThan(3000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  test('503 → http 503, then normal behaviour resumes', async () => {
    kube.injectFaults({ method: 'PATCH', path }, [{ status: 503 }]);
    const c = client();
    const e = await failure(c.mergePatch(gitRepo('app'), { a: 'b' }));
    expect(e.failure).toBe('http');
    expect(e.status).toBe(503);
    expect(e.retryAfterMs).toBeUndefined();
    await c.mergePatch(gitRepo('app'), { a: 'c' });
  });

  test('a reset connection → connection', async () => {
    kube.injectFaults({ method: 'PATCH', path }, [{ status: 'reset' }]);
    const e = await failure(client().mergePatch(gitRepo('app'), { a: 'b' }));
    expect(e.failure).toBe('connection');
    expect(e.code).toBe('ECONNRESET');
    expect(e.message).toContain(kube.url);
  });

  test('a server that never answers → timeout after timeoutMs', async () => {
    kube.injectFaults({ method: 'PATCH', path }, [{ status: 'hang' }]);
    const e = await failure(client({ timeoutMs: 200 }).mergePatch(gitRepo('app'), { a: 'b' }));
    expect(e.failure).toBe('timeout');
    expect(e.message).toContain('within 200ms');
  });

  test("the caller's abort is the caller's error, not a timeout", async () => {
    kube.injectFaults({ method: 'PATCH', path }, [{ status: 'hang' }]);
    const c = client();
    await c.listNames(SOURCE, 'GitRepository', 'flux-system', {}); // discovered already: the abort hits the PATCH
    const ac = new AbortController();
    const pending = c.mergePatch(gitRepo('app'), { a: 'b' }, ac.signal);
    setTimeout(() => ac.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');
  });

  test('connection refused → connection', async () => {
    const port = await freePort();
    const e = await failure(client({ server: `https://127.0.0.1:${port}` }).ping());
    expect(e.failure).toBe('connection');
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.message).toContain(`cannot reach https://127.0.0.1:${port}`);
  });

  test.each([
    ['GET', '/api', 302],
    ['PATCH', path, 307],
    ['PATCH', path, 301],
    ['PATCH', path, 303],
    ['PATCH', path, 308],
  ] as const)('%s %s answered %d with a Location elsewhere → an http failure naming it; nothing is sent there', async (method, match, status) => {
    const elsewhere = startElsewhere();
    try {
      kube.injectFaults({ method, path: match }, [{ status, location: elsewhere.location }]);
      const c = client();
      const e = await failure(method === 'GET' ? c.ping() : c.mergePatch(gitRepo('app'), { a: 'b' }));
      const request = method === 'GET' ? 'GET /api' : `PATCH /apis/${SOURCE}/namespaces/flux-system/gitrepositories/app`;
      expect(e.failure).toBe('http');
      expect(e.status).toBe(status);
      expect(e.message).toBe(
        `${kube.url}: ${request} answered ${status}, a redirect to ${elsewhere.shown}: not followed (fluxgate sends its credentials only to the configured server: set it to the API server's own address)`,
      );
      expect(elsewhere.received).toEqual([]);
    } finally {
      await elsewhere.stop();
    }
  });

  test('target never carries credentials', () => {
    expect(createKubeClient({ server: 'https://user:pass@example.com:6443/', timeoutMs: 1000 }).target).toBe('https://example.com:6443');
    expect(createKubeClient({ server: 'https://rancher.example.com/k8s/clusters/c-1/', timeoutMs: 1000 }).target).toBe('https://rancher.example.com/k8s/clusters/c-1');
  });
});

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
