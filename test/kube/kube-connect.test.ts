/**
 * connectKubernetes: mode resolution with injected env, HOME and service-account directory, and real kubeconfig
 * files (CA, token, client certificate, exec plugin, contexts) against the fake API server over HTTPS.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { KubernetesConfig } from '../../src/config/schema.ts';
import { connectKubernetes, connectResolved, rotatingTokenFile } from '../../src/kube/connect.ts';
import { DRY_RUN_FALLBACK_WARNING, KubeSetupError, resolveKubernetes } from '../../src/kube/target.ts';
import { KubeError } from '../../src/kube/client.ts';
import { startFakeKubeApiServer, unrelatedCaPem, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';

const SOURCE = 'source.toolkit.fluxcd.io/v1';
const ref = { apiVersion: SOURCE, kind: 'GitRepository', namespace: 'flux-system', name: 'app' };
const cfg = (o: Partial<KubernetesConfig> = {}): Omit<KubernetesConfig, 'events'> => ({ mode: 'auto', requestTimeout: 3000, ...o });

let kube: FakeKubeApiServer;
let strict: FakeKubeApiServer; // only client certificates authenticate
let dir: string;
let noSa: string; // a service-account directory that does not exist

beforeAll(async () => {
  [kube, strict] = await Promise.all([startFakeKubeApiServer(), startFakeKubeApiServer({ requireClientCert: true })]);
  kube.addObject(ref);
  strict.addObject(ref);
  dir = mkdtempSync(join(tmpdir(), 'kube-connect-test-'));
  noSa = join(dir, 'no-service-account');
});
afterAll(async () => {
  await Promise.all([kube.stop(), strict.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the test's temp dir. */
const subdir = (name: string) => {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
};

/** A kubeconfig with several contexts for the fake server, each with its own user. */
function multiContextKubeconfig(path: string, contexts: { name: string; token?: string; withClientCert?: boolean }[], current?: string): string {
  const docs = contexts.map((c) => parseYaml(readFileSync(kube.writeKubeconfig(dir, { context: c.name, token: c.token, withClientCert: c.withClientCert }), 'utf8')));
  const merged = {
    apiVersion: 'v1', kind: 'Config',
    clusters: docs.flatMap((d) => d.clusters), users: docs.flatMap((d) => d.users), contexts: docs.flatMap((d) => d.contexts),
    ...(current ? { 'current-context': current } : {}),
  };
  writeFileSync(path, toYaml(merged));
  return path;
}

describe('auto', () => {
  test('nothing configured → dry-run with a loud warning', async () => {
    const c = await connectKubernetes(cfg(), {}, { serviceAccountDir: noSa });
    expect(c.mode).toBe('dry-run');
    expect(c.warning).toBe(DRY_RUN_FALLBACK_WARNING);
    expect(c.warning).toContain('no Kubernetes cluster configured');
    expect(c.warning).toContain('running in dry-run, reconcile requests are logged, not sent');
    expect(c.client?.target).toBe('dry-run');
  });

  test('a HOME without .kube/config → dry-run', async () => {
    const c = await connectKubernetes(cfg(), { HOME: subdir('empty-home') }, { serviceAccountDir: noSa });
    expect(c.mode).toBe('dry-run');
    expect(c.warning).toBe(DRY_RUN_FALLBACK_WARNING);
  });

  test('a $KUBECONFIG naming only missing files → dry-run, and the warning says so', async () => {
    const c = await connectKubernetes(cfg(), { KUBECONFIG: '/nope/a:/nope/b' }, { serviceAccountDir: noSa });
    expect(c.mode).toBe('dry-run');
    expect(c.warning).toContain('$KUBECONFIG=/nope/a:/nope/b names no existing file');
  });

  test('~/.kube/config is used when it exists', async () => {
    const home = subdir('home-with-config');
    mkdirSync(join(home, '.kube'));
    copyFileSync(kube.writeKubeconfig(dir, { context: 'home' }), join(home, '.kube', 'config'));
    const c = await connectKubernetes(cfg(), { HOME: home }, { serviceAccountDir: noSa });
    expect(c.mode).toBe('kubeconfig');
    expect(c.describe).toBe(`${join(home, '.kube', 'config')} (context home) → ${kube.url}`);
    expect(c.warning).toBeUndefined();
    await c.client!.ping();
  });

  test('$KUBECONFIG: the first existing file of the list wins over ~/.kube/config', async () => {
    const path = kube.writeKubeconfig(dir, { context: 'from-env' });
    const c = await connectKubernetes(cfg(), { KUBECONFIG: `/nope/missing:${path}`, HOME: subdir('empty-home') }, { serviceAccountDir: noSa });
    expect(c.mode).toBe('kubeconfig');
    expect(c.describe).toContain('(context from-env)');
    await c.client!.mergePatch(ref, { 'reconcile.fluxcd.io/requestedAt': 'from-env' });
    expect(kube.object(SOURCE, 'GitRepository', 'flux-system', 'app').metadata.annotations['reconcile.fluxcd.io/requestedAt']).toBe('from-env');
  });

  test('in a pod (service host + token) → in-cluster', async () => {
    const sa = subdir('sa-auto');
    writeFileSync(join(sa, 'token'), `${kube.token}\n`);
    writeFileSync(join(sa, 'ca.crt'), kube.caPem);
    const port = new URL(kube.url).port;
    const c = await connectKubernetes(cfg(), { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port, HOME: '/nonexistent' }, { serviceAccountDir: sa });
    expect(c.mode).toBe('in-cluster');
    expect(c.describe).toBe(`service account → https://127.0.0.1:${port}`);
    await c.client!.mergePatch(ref, { 'reconcile.fluxcd.io/requestedAt': 'in-cluster' });
    expect(kube.patches.at(-1)!.authorization).toBe(`Bearer ${kube.token}`); // trimmed of its newline
  });

  test('KUBERNETES_SERVICE_HOST without a token file is not in-cluster', async () => {
    const c = await connectKubernetes(cfg(), { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, { serviceAccountDir: noSa });
    expect(c.mode).toBe('dry-run');
  });

  test('an explicit kubeconfig path wins, and must exist', async () => {
    const path = kube.writeKubeconfig(dir, { context: 'explicit' });
    const c = await connectKubernetes(cfg({ kubeconfig: path }), { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, { serviceAccountDir: noSa });
    expect(c.mode).toBe('kubeconfig');
    await expect(connectKubernetes(cfg({ kubeconfig: join(dir, 'missing.yaml') }), {}, { serviceAccountDir: noSa })).rejects.toThrow(
      `kubeconfig file ${join(dir, 'missing.yaml')} not found`,
    );
  });
});

describe('kubeconfig mode', () => {
  test('explicit path and context selection', async () => {
    const path = multiContextKubeconfig(join(dir, 'multi.yaml'), [{ name: 'bad', token: 'not-the-token' }, { name: 'good' }], 'bad');

    const byDefault = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    expect(byDefault.describe).toContain('(context bad)');
    const e = await byDefault.client!.ping().catch((x) => x);
    expect(e).toBeInstanceOf(KubeError);
    expect((e as KubeError).failure).toBe('unauthorized');

    const chosen = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path, context: 'good' }), {});
    expect(chosen.mode).toBe('kubeconfig');
    expect(chosen.describe).toBe(`${path} (context good) → ${kube.url}`);
    await chosen.client!.ping();
  });

  test('an unknown context is an error listing the available ones', async () => {
    const path = multiContextKubeconfig(join(dir, 'multi2.yaml'), [{ name: 'kind-dev' }, { name: 'prod' }], 'prod');
    await expect(connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path, context: 'staging' }), {})).rejects.toThrow(
      `context "staging" not found in kubeconfig ${path}; available contexts: kind-dev, prod`,
    );
  });

  test('no current-context and no context configured is an error listing the contexts', async () => {
    const path = multiContextKubeconfig(join(dir, 'nocurrent.yaml'), [{ name: 'one' }, { name: 'two' }]);
    await expect(connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {})).rejects.toThrow(
      `kubeconfig ${path} has no current-context; set kubernetes.context to one of: one, two`,
    );
  });

  test('the file is required', async () => {
    await expect(connectKubernetes(cfg({ mode: 'kubeconfig' }), { HOME: subdir('empty-home') })).rejects.toThrow(
      'kubernetes.mode is kubeconfig but no kubeconfig file was found',
    );
    await expect(connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: '/nope/config' }), {})).rejects.toThrow('kubeconfig file /nope/config not found');
  });

  test('bad YAML is a clear error with line and column, without the file content', async () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'apiVersion: v1\nusers:\n- name: me\n  user:\n    token: "s3cr3t-token-value\n');
    const err = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {}).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`kubeconfig ${path} is not valid YAML`);
    expect((err as Error).message).toMatch(/line \d+, column \d+/);
    expect((err as Error).message).not.toContain('s3cr3t');
  });

  test('YAML that is not a kubeconfig is a clear error', async () => {
    const path = join(dir, 'list.yaml');
    writeFileSync(path, '- a\n- b\n');
    await expect(connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {})).rejects.toThrow(`kubeconfig ${path} is not a kubeconfig`);
    const noServer = join(dir, 'noserver.yaml');
    writeFileSync(noServer, toYaml({ clusters: [{ name: 'c', cluster: {} }], contexts: [], users: [] }));
    await expect(connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: noServer }), {})).rejects.toThrow(`kubeconfig ${noServer} is invalid: clusters[0].cluster.server is missing`);
  });

  test('client-certificate-data / client-key-data authenticate', async () => {
    const path = strict.writeKubeconfig(dir, { withClientCert: true, context: 'cert' });
    const c = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    await c.client!.mergePatch(ref, { 'reconcile.fluxcd.io/requestedAt': 'cert' });
    expect(strict.patches.at(-1)!.authorization).toBeNull();
    expect(strict.object(SOURCE, 'GitRepository', 'flux-system', 'app').metadata.annotations).toEqual({ 'reconcile.fluxcd.io/requestedAt': 'cert' });
  });

  test('a token is refused by the certificate-only server (proves the certificate did the work above)', async () => {
    const path = strict.writeKubeconfig(dir, { context: 'token-only' });
    const c = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    expect(((await c.client!.ping().catch((e) => e)) as KubeError).failure).toBe('unauthorized');
  });

  test('certificate files relative to the kubeconfig, and a token-file', async () => {
    const d = subdir('relative');
    writeFileSync(join(d, 'ca.crt'), kube.caPem);
    writeFileSync(join(d, 'token'), kube.token);
    const path = join(d, 'config');
    writeFileSync(path, toYaml({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'rel',
      clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority': 'ca.crt' } }],
      users: [{ name: 'u', user: { 'token-file': 'token' } }],
      contexts: [{ name: 'rel', context: { cluster: 'c', user: 'u' } }],
    }));
    const c = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    await c.client!.ping();
  });

  test('the files a kubeconfig names are read by fluxgate when it is resolved, not opened again by the Kubernetes client when connecting', async () => {
    const d = subdir('read-once');
    writeFileSync(join(d, 'ca.crt'), kube.caPem);
    const path = join(d, 'config');
    writeFileSync(path, toYaml({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'once',
      clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority': 'ca.crt' } }],
      users: [{ name: 'u', user: { token: kube.token } }],
      contexts: [{ name: 'once', context: { cluster: 'c', user: 'u' } }],
    }));
    const target = await resolveKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    // Whatever the path holds now (here: nothing; a FIFO would have blocked the client's own read) is not read.
    rmSync(join(d, 'ca.crt'));
    const c = await connectResolved(target, { timeoutMs: 3000 });
    await c.client!.ping();
  });

  test('an exec credential plugin supplies the token', async () => {
    const path = join(subdir('exec'), 'config');
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: kube.token } });
    writeFileSync(path, toYaml({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'exec',
      clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64') } }],
      users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', `echo '${credential}'`], interactiveMode: 'Never' } } }],
      contexts: [{ name: 'exec', context: { cluster: 'c', user: 'u' } }],
    }));
    const c = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    await c.client!.mergePatch(ref, { 'reconcile.fluxcd.io/requestedAt': 'exec' });
    expect(kube.patches.at(-1)!.authorization).toBe(`Bearer ${kube.token}`);
  });

  test('insecure-skip-tls-verify is honoured', async () => {
    const path = kube.writeKubeconfig(dir, { insecureSkipTlsVerify: true, context: 'insecure' });
    await (await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {})).client!.ping();
  });

  test('the kubeconfig CA is honoured: a wrong one fails with a tls error', async () => {
    const path = kube.writeKubeconfig(dir, { caPem: await unrelatedCaPem(), context: 'wrong-ca' });
    const c = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    const e = (await c.client!.ping().catch((x) => x)) as KubeError;
    expect(e.failure).toBe('tls');
    expect(e.message).toContain('check certificate-authority in the kubeconfig');
  });

  test('a plain-HTTP server (kubectl proxy) gets no credentials, with a warning', async () => {
    const path = join(subdir('proxy'), 'config');
    writeFileSync(path, toYaml({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'proxy',
      clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:8001' } }],
      users: [{ name: 'u', user: { token: 'would-leak' } }],
      contexts: [{ name: 'proxy', context: { cluster: 'c', user: 'u' } }],
    }));
    const c = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    expect(c.client!.target).toBe('http://127.0.0.1:8001');
    expect(c.warning).toContain('plain HTTP; no credentials are sent');
    expect(c.warning).not.toContain('would-leak');
  });

  test('username/password users are refused with the reason', async () => {
    const path = join(subdir('basic'), 'config');
    writeFileSync(path, toYaml({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'basic',
      clusters: [{ name: 'c', cluster: { server: kube.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { username: 'admin', password: 'hunter2' } }],
      contexts: [{ name: 'basic', context: { cluster: 'c', user: 'u' } }],
    }));
    const err = (await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {}).catch((e) => e)) as Error;
    expect(err.message).toContain('basic auth');
    expect(err.message).not.toContain('hunter2');
  });

  test('requestTimeout is the per-request timeout', async () => {
    const path = kube.writeKubeconfig(dir, { context: 'slow' });
    const c = await connectKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path, requestTimeout: 200 }), {});
    kube.injectFaults({ method: 'PATCH' }, [{ status: 'hang' }]);
    const e = (await c.client!.mergePatch(ref, { a: 'b' }).catch((x) => x)) as KubeError;
    expect(e.failure).toBe('timeout');
    expect(e.message).toContain('within 200ms');
  });
});

describe('in-cluster mode', () => {
  test('requires KUBERNETES_SERVICE_HOST', async () => {
    await expect(connectKubernetes(cfg({ mode: 'in-cluster' }), {}, { serviceAccountDir: noSa })).rejects.toThrow('KUBERNETES_SERVICE_HOST is not set');
  });

  test('requires the service-account token', async () => {
    await expect(connectKubernetes(cfg({ mode: 'in-cluster' }), { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, { serviceAccountDir: noSa })).rejects.toThrow(
      `service-account token ${join(noSa, 'token')} not found`,
    );
  });

  test('the rotating token is re-read after a minute, not before', async () => {
    const sa = subdir('sa-rotate');
    writeFileSync(join(sa, 'token'), 'expired-token');
    writeFileSync(join(sa, 'ca.crt'), kube.caPem);
    let now = 1_000_000;
    const c = await connectKubernetes(
      cfg({ mode: 'in-cluster' }),
      { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(kube.url).port },
      { serviceAccountDir: sa, now: () => now },
    );
    expect(((await c.client!.ping().catch((e) => e)) as KubeError).failure).toBe('unauthorized');
    writeFileSync(join(sa, 'token'), kube.token); // the kubelet rotated it
    now += 30_000;
    expect(((await c.client!.ping().catch((e) => e)) as KubeError).failure).toBe('unauthorized'); // still cached
    now += 31_000;
    await c.client!.ping();
  });

  test('an IPv6 service host is bracketed', async () => {
    const sa = subdir('sa-v6');
    writeFileSync(join(sa, 'token'), 't');
    const c = await connectKubernetes(cfg({ mode: 'in-cluster' }), { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, { serviceAccountDir: sa });
    expect(c.client!.target).toBe('https://[fd00::1]'); // :443 is the https default
  });
});

describe('dry-run mode', () => {
  test('answers without a cluster and sends nothing', async () => {
    const c = await connectKubernetes(cfg({ mode: 'dry-run' }), { KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(c.mode).toBe('dry-run');
    expect(c.warning).toBeUndefined();
    const k = c.client!;
    expect(k.target).toBe('dry-run');
    await k.ping();
    expect(await k.canI('patch', 'source.toolkit.fluxcd.io/v1', 'GitRepository', 'flux-system')).toBe(true);
    expect(await k.listNames('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', { app: 'x' })).toEqual([]);
    await k.mergePatch(ref, { a: 'b' });
  });
});

describe('resolving without the network (what validate checks)', () => {
  /** The KubeSetupError that resolving throws. */
  const problem = (config: Partial<KubernetesConfig>, env: Record<string, string> = {}) =>
    resolveKubernetes(cfg(config), env, { serviceAccountDir: noSa }).then(
      () => {
        throw new Error('expected a KubeSetupError');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(KubeSetupError);
        return { field: (error as KubeSetupError).field, message: (error as KubeSetupError).message };
      },
    );

  test('an exec credential plugin is not run until connecting', async () => {
    const d = subdir('exec-deferred');
    const marker = join(d, 'plugin-ran');
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: kube.token } });
    const path = join(d, 'config');
    writeFileSync(path, toYaml({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'exec',
      clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64') } }],
      users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', `touch '${marker}'; echo '${credential}'`], interactiveMode: 'Never' } } }],
      contexts: [{ name: 'exec', context: { cluster: 'c', user: 'u' } }],
    }));
    const target = await resolveKubernetes(cfg({ mode: 'kubeconfig', kubeconfig: path }), {});
    expect(target).toMatchObject({ mode: 'kubeconfig', describe: `${path} (context exec) → ${kube.url}` });
    expect(existsSync(marker)).toBe(false);
    const connection = await connectResolved(target, { timeoutMs: 3000 });
    await connection.client.ping();
    expect(existsSync(marker)).toBe(true);
  });

  test('each problem names the config key that led to it', async () => {
    const good = multiContextKubeconfig(join(dir, 'fields.yaml'), [{ name: 'one' }], 'one');
    expect(await problem({ kubeconfig: join(dir, 'absent.yaml') })).toMatchObject({ field: 'kubeconfig' });
    expect(await problem({ mode: 'kubeconfig' }, { HOME: subdir('fields-home') })).toMatchObject({ field: 'mode' });
    expect(await problem({ kubeconfig: good, context: 'two' })).toMatchObject({ field: 'context' });
    expect(await problem({ mode: 'in-cluster' })).toMatchObject({ field: 'mode' });
    // A broken kubeconfig found by looking (not named in the config) is the mode's doing.
    const home = subdir('broken-home');
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), '- not\n- a kubeconfig\n');
    expect(await problem({}, { HOME: home })).toEqual({ field: 'mode', message: `kubeconfig ${join(home, '.kube', 'config')} is not a kubeconfig (expected a YAML mapping with clusters, users and contexts)` });
  });

  test.each([
    ['certificate-authority', { cluster: { 'certificate-authority': 'ca.crt' } }, 'ca.crt'],
    ['client-certificate', { user: { 'client-certificate': 'client.crt', 'client-key-data': 'eA==' } }, 'client.crt'],
    ['client-key', { user: { 'client-certificate-data': 'eA==', 'client-key': 'client.key' } }, 'client.key'],
    ['token-file', { user: { 'token-file': 'token' } }, 'token'],
  ])('a missing %s file is found before connecting', async (key, parts: { cluster?: object; user?: object }, file) => {
    const d = subdir(`missing-${key}`);
    const path = join(d, 'config');
    writeFileSync(path, toYaml({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', ...parts.cluster } }],
      users: [{ name: 'u', user: parts.user ?? { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    }));
    expect(await problem({ kubeconfig: path })).toEqual({ field: 'kubeconfig', message: `kubeconfig ${path}, context x: ${key} ${join(d, file)} not found` });
  });
});

describe('helpers', () => {
  test('rotatingTokenFile keeps the last token when a re-read fails', async () => {
    let content: string | Error = 'first';
    let now = 0;
    const read = () => {
      if (content instanceof Error) throw content;
      return content;
    };
    const token = rotatingTokenFile('/t', read, () => now);
    expect(await token()).toBe('first');
    content = 'second';
    now = 59_999;
    expect(await token()).toBe('first');
    now = 60_000;
    expect(await token()).toBe('second');
    content = Object.assign(new Error('gone'), { code: 'ENOENT' });
    now = 200_000;
    expect(await token()).toBe('second');
    await expect(rotatingTokenFile('/t', read)()).rejects.toThrow('cannot read token file /t: no such file');
  });

});
