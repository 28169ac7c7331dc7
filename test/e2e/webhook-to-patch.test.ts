/**
 * End to end: signed webhooks over real HTTP on loopback into a running fluxgate, patches observed at a
 * Kubernetes API server speaking the real wire protocol over HTTPS with its own CA.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { manualClock } from '../support/manual-clock.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';
import { deliveryBody, githubWebhook, gitlabSignedWebhook, gitlabWebhook, post } from '../support/webhooks.ts';

const GITHUB_SECRET = 'gh-secret-4f1c9a';
const GITLAB_TOKEN = 'gl-token-77b2e0';
const SIGNING_TOKEN = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

let kube: FakeKubeApiServer;
let kubeconfig: string;
const scratch = tempDir();

beforeAll(async () => {
  kube = await startFakeKubeApiServer();
  kubeconfig = kube.writeKubeconfig(scratch.path);
  kube.addObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' });
  for (const name of ['app-a', 'app-b', 'other']) {
    const labels = name === 'other' ? { app: 'other' } : { app: 'my-app' };
    kube.addObject({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace: 'flux-system', name, labels });
  }
  kube.addObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name: 'guestbook' });
});

afterAll(async () => {
  await kube.stop();
  scratch.remove();
});

function config(options: { debounce?: string; resources?: string; extra?: string; maxBodySize?: string; maxPending?: number } = {}): string {
  const resources =
    options.resources ??
    `      - kind: GitRepository
        name: app
        namespace: flux-system`;
  return `server:
  address: 127.0.0.1:0
  maxBodySize: ${options.maxBodySize ?? '1MiB'}
kubernetes:
  mode: kubeconfig
  kubeconfig: ${kubeconfig}
reconcile:
  debounce: ${options.debounce ?? '2s'}
  maxPending: ${options.maxPending ?? 1000}
  retry: { maxAttempts: 5, initialDelay: 100ms, maxDelay: 2s }
providers:
  - name: github
    type: github
    secret: { env: GITHUB_WEBHOOK_SECRET }
  - name: gitlab
    type: gitlab
    secret: { file: gitlab-token }
    signingSecret: { value: "${SIGNING_TOKEN}" }
targets:
  - name: app
    providers: [github, gitlab]
    match:
      repository: your-org/your-repo
      branches: [main]
    resources:
${resources}
${options.extra ?? ''}`;
}

let gateway: TestGateway | undefined;
const clock = () => manualClock(Date.now());

async function start(yaml: string, testClock = clock()) {
  gateway = await startTestGateway({ config: yaml, env: { GITHUB_WEBHOOK_SECRET: GITHUB_SECRET }, files: { 'gitlab-token': `${GITLAB_TOKEN}\n` }, clock: testClock });
  return { gateway, clock: testClock };
}

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  kube.patches.length = 0;
});

/** Waits until `count` PATCH requests have reached the API server (they run after the 202). */
async function patchesArrive(count: number): Promise<void> {
  await until(() => kube.patches.length >= count, `${count} PATCH requests`);
  expect(kube.patches.length).toBe(count);
}

/** Waits until the gateway has logged `count` lines with this message (the response was handled). */
async function logged(message: string, count = 1): Promise<void> {
  await until(() => gateway!.log.lines.filter((line) => line.msg === message).length >= count, `${count}× log "${message}"`);
}

describe('a signed GitHub push', () => {
  test('is answered 202 and patches the GitRepository once with a JSON merge patch', async () => {
    const { gateway } = await start(config());
    const response = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ targets: 1, delivery: expect.any(String) });
    await patchesArrive(1);
    const [patch] = kube.patches;
    expect(patch!.path).toBe('/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/app');
    expect(patch!.contentType).toBe('application/merge-patch+json');
    expect(Object.keys(patch!.body)).toEqual(['metadata']);
    expect(Object.keys(patch!.body.metadata)).toEqual(['annotations']);
    expect(patch!.body.metadata.annotations[REQUESTED_AT]).toMatch(RFC3339_NANO);
    expect(kube.object('source.toolkit.fluxcd.io/v1', 'GitRepository', 'flux-system', 'app').metadata.annotations[REQUESTED_AT]).toBe(
      patch!.body.metadata.annotations[REQUESTED_AT],
    );
    await logged('reconcile requested');
    expect(await (await fetch(`${gateway.adminUrl}/metrics`)).text()).toContain('fluxgate_reconcile_requests_total{kind="GitRepository",outcome="success"} 1');
  });

  test('100 pushes in a burst patch the object exactly twice', async () => {
    const { gateway, clock } = await start(config());
    const answers = await Promise.all(Array.from({ length: 100 }, () => post(gateway.hook('github'), githubWebhook(GITHUB_SECRET)).then((r) => r.status)));
    expect(answers.every((status) => status === 202)).toBe(true);
    await patchesArrive(1);
    await clock.advance(1999);
    expect(kube.patches).toHaveLength(1);
    await clock.advance(1);
    await patchesArrive(2);
    await clock.advance(10_000);
    expect(kube.patches).toHaveLength(2);
    const [first, second] = kube.patches.map((patch) => patch.body.metadata.annotations[REQUESTED_AT]);
    expect(first).not.toBe(second);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toContain('fluxgate_debounce_coalesced_total 98');
    expect(metrics).toContain('fluxgate_webhook_requests_total{provider="github",type="github",event="push",outcome="accepted"} 100');
  });

  test('the wrong secret gets 401, says why, and patches nothing', async () => {
    const { gateway } = await start(config());
    const response = await post(gateway.hook('github'), githubWebhook('not-the-secret'));
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(/signature/);
    expect(JSON.stringify(body)).not.toContain(GITHUB_SECRET);
    expect(gateway.log.lines.map((line) => line.msg)).not.toContain('webhook accepted');
    expect(await (await fetch(`${gateway.adminUrl}/metrics`)).text()).toContain('fluxgate_reconcile_pending 0');
    expect(kube.patches).toHaveLength(0);
  });

  test('a delivery without signature headers gets 401 naming the header', async () => {
    const { gateway } = await start(config());
    const hook = githubWebhook(GITHUB_SECRET);
    delete hook.headers['x-hub-signature-256'];
    delete hook.headers['x-hub-signature'];
    const response = await post(gateway.hook('github'), hook);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toContain('X-Hub-Signature');
  });

  test('malformed JSON with a valid signature gets 400', async () => {
    const { gateway } = await start(config());
    const body = new TextEncoder().encode('{"ref": "refs/heads/main", ');
    const hook = githubWebhook(GITHUB_SECRET);
    const { createHmac } = await import('node:crypto');
    hook.headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
    const response = await post(gateway.hook('github'), { body, headers: hook.headers });
    expect(response.status).toBe(400);
    expect(kube.patches).toHaveLength(0);
  });

  test('a repeated delivery id is ignored as a duplicate', async () => {
    const { gateway } = await start(config());
    const hook = githubWebhook(GITHUB_SECRET, { deliveryId: 'd3b07384-d9a0-4c1f-9b8e-000000000001' });
    expect((await post(gateway.hook('github'), hook)).status).toBe(202);
    const again = await post(gateway.hook('github'), hook);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ignored: 'duplicate delivery' });
  });

  test('ping, unlisted events and non-matching branches are answered 200 with the reason', async () => {
    const { gateway } = await start(config());
    const ping = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET, { event: 'ping' }));
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({ ignored: 'ping' });
    const other = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET, { branch: 'feature/x' }));
    expect(other.status).toBe(200);
    expect(((await other.json()) as { ignored: string }).ignored).toContain('feature/x');
    const repo = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET, { repository: 'your-org/another' }));
    expect(((await repo.json()) as { ignored: string }).ignored).toContain('your-org/another');
    expect(gateway.log.lines.filter((line) => line.msg === 'webhook ignored')).toHaveLength(3);
    expect(gateway.log.lines.map((line) => line.msg)).not.toContain('webhook accepted');
    expect(kube.patches).toHaveLength(0);
  });
});

describe('HTTP contract', () => {
  test('unknown provider 404, wrong method 405, health and readiness', async () => {
    const { gateway } = await start(config());
    expect((await fetch(`${gateway.url}/hook/bitbucket`, { method: 'POST', body: '{}' })).status).toBe(404);
    const get = await fetch(gateway.hook('github'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
  });

  test('a body over maxBodySize is refused with 413 by its Content-Length', async () => {
    const { gateway } = await start(config());
    const hook = githubWebhook(GITHUB_SECRET);
    const response = await fetch(gateway.hook('github'), { method: 'POST', headers: hook.headers, body: new Uint8Array(2 * 1024 * 1024) });
    expect(response.status).toBe(413);
  });

  test('a 1 GiB chunked upload is cut off at the limit, not buffered', async () => {
    const { gateway } = await start(config());
    let produced = 0;
    const chunk = new Uint8Array(64 * 1024);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= 1024 ** 3) return controller.close();
        produced += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(gateway.hook('github'), { method: 'POST', headers: { 'x-github-event': 'push' }, body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    // The sender stopped long before 1 GiB: only the limit (1 MiB) plus what was in flight was read.
    expect(produced).toBeLessThan(64 * 1024 * 1024);
  });

  test('status page, deliveries JSON, metrics and logs never show a secret', async () => {
    const { gateway } = await start(config());
    await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET));
    await post(gateway.hook('github'), githubWebhook('wrong'));
    await post(gateway.hook('gitlab'), gitlabWebhook('wrong-token'));
    await patchesArrive(1);
    const page = await (await fetch(`${gateway.adminUrl}/`)).text();
    expect(page).toContain('/hook/github');
    expect(page).toContain('GitRepository flux-system/app');
    const deliveries = (await (await fetch(`${gateway.adminUrl}/api/deliveries`)).json()) as { deliveries: { outcome: string; objects: { state: string }[] }[] };
    expect(deliveries.deliveries.map((item) => item.outcome)).toEqual(['rejected', 'rejected', 'accepted']);
    await logged('reconcile requested');
    const everything = [page, JSON.stringify(deliveries), await (await fetch(`${gateway.adminUrl}/metrics`)).text(), JSON.stringify(gateway.log.lines)].join('\n');
    for (const secret of [GITHUB_SECRET, GITLAB_TOKEN, SIGNING_TOKEN]) expect(everything).not.toContain(secret);
  });
});

describe('GitLab', () => {
  test('a Push Hook with the right token patches; the wrong token gets 401', async () => {
    const { gateway } = await start(config());
    expect((await post(gateway.hook('gitlab'), gitlabWebhook(GITLAB_TOKEN))).status).toBe(202);
    await patchesArrive(1);
    expect((await post(gateway.hook('gitlab'), gitlabWebhook('nope'))).status).toBe(401);
  });

  test('a signing-token (Standard Webhooks) delivery is accepted when fresh and refused when 6 minutes old', async () => {
    const { gateway, clock } = await start(config());
    const now = Math.floor(clock.now() / 1000);
    expect((await post(gateway.hook('gitlab'), gitlabSignedWebhook(SIGNING_TOKEN, now))).status).toBe(202);
    const stale = await post(gateway.hook('gitlab'), gitlabSignedWebhook(SIGNING_TOKEN, now - 360));
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toMatch(/timestamp/);
  });

  test('a signed delivery replayed within the window with a fresh Idempotency-Key is a duplicate of the signed webhook-id', async () => {
    const { gateway, clock } = await start(config());
    const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
    const hook = gitlabSignedWebhook(SIGNING_TOKEN, Math.floor(clock.now() / 1000), { deliveryId: id });
    const first = await post(gateway.hook('gitlab'), hook);
    expect({ status: first.status, body: await first.json() }).toEqual({ status: 202, body: { delivery: id, targets: 1 } });
    await patchesArrive(1);
    await clock.advance(4 * 60_000); // the signature is still fresh
    // The id headers are not signed: a replay can change them, but not webhook-id.
    const replay = await post(gateway.hook('gitlab'), { body: hook.body, headers: { ...hook.headers, 'idempotency-key': crypto.randomUUID(), 'x-gitlab-webhook-uuid': crypto.randomUUID() } });
    expect({ status: replay.status, body: await replay.json() }).toEqual({ status: 200, body: { ignored: 'duplicate delivery' } });
    const { deliveries } = (await (await fetch(`${gateway.adminUrl}/api/deliveries`)).json()) as { deliveries: { deliveryId: string; outcome: string }[] };
    expect(deliveries.map((delivery) => [delivery.deliveryId, delivery.outcome])).toEqual([[id, 'ignored'], [id, 'accepted']]);
    expect(kube.patches).toHaveLength(1);
  });
});

describe('reconcile', () => {
  test('429 then 503 then 200: the object is patched once after retries', async () => {
    const { gateway, clock } = await start(config());
    kube.injectFaults({ method: 'PATCH', path: '/gitrepositories/app' }, [{ status: 429, retryAfter: '1' }, { status: 503 }]);
    expect((await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET))).status).toBe(202);
    await patchesArrive(1);
    // The backoff timer exists once the failure is handled; only then does moving the clock mean anything.
    await logged('patch failed, retrying', 1);
    await clock.advance(999);
    expect(kube.patches).toHaveLength(1);
    await clock.advance(1);
    await patchesArrive(2);
    await logged('patch failed, retrying', 2);
    await clock.advance(2000);
    await patchesArrive(3);
    await logged('reconcile requested');
    expect(kube.object('source.toolkit.fluxcd.io/v1', 'GitRepository', 'flux-system', 'app').metadata.annotations[REQUESTED_AT]).toBe(
      kube.patches[2]!.body.metadata.annotations[REQUESTED_AT],
    );
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toContain('fluxgate_reconcile_retries_total{kind="GitRepository",reason="throttled"} 1');
    expect(metrics).toContain('fluxgate_reconcile_retries_total{kind="GitRepository",reason="server_error"} 1');
    expect(metrics).toContain('fluxgate_reconcile_requests_total{kind="GitRepository",outcome="success"} 1');
  });

  test('a missing object is logged and counted, not retried', async () => {
    const resources = `      - kind: GitRepository
        name: gone
        namespace: flux-system`;
    const { gateway } = await start(config({ resources }));
    await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET));
    await patchesArrive(1);
    await logged('patch failed');
    expect(kube.patches).toHaveLength(1);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toContain('fluxgate_reconcile_requests_total{kind="GitRepository",outcome="not_found"} 1');
    expect(metrics).not.toContain('fluxgate_reconcile_retries_total{');
    expect(gateway.log.lines.find((line) => line.msg === 'patch failed')).toMatchObject({ object: 'GitRepository flux-system/gone', outcome: 'not_found' });
  });

  test('matchLabels selects every matching Kustomization; Argo CD Applications get refresh=normal', async () => {
    const resources = `      - kind: Kustomization
        namespace: flux-system
        matchLabels: { app: my-app }
      - kind: Application
        name: guestbook
        namespace: argocd`;
    const { gateway } = await start(config({ resources }));
    await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET));
    await patchesArrive(3);
    const paths = kube.patches.map((patch) => patch.path).sort();
    expect(paths).toEqual([
      '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/guestbook',
      '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/app-a',
      '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/app-b',
    ]);
    const argo = kube.patches.find((patch) => patch.path.includes('applications'))!;
    expect(argo.body).toEqual({ metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
  });

  test('a full queue answers 503 with Retry-After and does not remember the delivery', async () => {
    const other = `  - name: other
    providers: [github]
    match: { repository: your-org/other }
    resources: [{ kind: GitRepository, name: other, namespace: flux-system }]`;
    kube.addObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'other' });
    const { gateway, clock } = await start(config({ maxPending: 1, debounce: '1h', extra: other }));
    expect((await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET))).status).toBe(202);
    await patchesArrive(1);
    await logged('reconcile requested');
    // The second push waits for the trailing patch: one object pending, which is the limit.
    expect((await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET))).status).toBe(202);
    // More pushes for the same object join that patch: they add no pending object.
    expect((await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET))).status).toBe(202);
    // A push for another object would make two.
    const hook = githubWebhook(GITHUB_SECRET, { repository: 'your-org/other' });
    const refused = await post(gateway.hook('github'), hook);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    // Once the queue drains, the same delivery is accepted: the refusal did not mark it as seen.
    await clock.advance(3_600_000);
    await patchesArrive(2);
    await logged('reconcile requested', 2);
    expect((await post(gateway.hook('github'), hook)).status).toBe(202);
    await patchesArrive(3);
    expect(kube.patches.map((patch) => patch.path.split('/').at(-1))).toEqual(['app', 'app', 'other']);
  });
});

describe('GitLab system hooks', () => {
  test('a system hook that is not about code is answered 200, not 400', async () => {
    const { gateway } = await start(config());
    const body = deliveryBody('gitlab/system-hook-user-create.json');
    const response = await post(gateway.hook('gitlab'), { body, headers: { 'content-type': 'application/json', 'x-gitlab-event': 'System Hook', 'x-gitlab-token': GITLAB_TOKEN } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ignored: 'System Hook event "user_create" is not a push' });
  });
});

describe('status page', () => {
  test('escapes what senders control, even from refused deliveries', async () => {
    const { gateway } = await start(config());
    const hook = githubWebhook('wrong-secret');
    hook.headers['x-github-event'] = '<script>alert(1)</script>';
    hook.headers['x-github-delivery'] = '"><img src=x onerror=alert(2)>';
    expect((await post(gateway.hook('github'), hook)).status).toBe(401);
    const page = await (await fetch(`${gateway.adminUrl}/`)).text();
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<img');
    expect(page).toContain('push, ping');
  });
});
