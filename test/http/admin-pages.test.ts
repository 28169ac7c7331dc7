/**
 * The admin surface tells the whole truth: a delivery's state follows its patches (patched, partly failed,
 * failed) with per-object attempts, errors and latency; /api/deliveries filters and finds one delivery;
 * requests to unknown hooks are counted and shown; an unsigned provider's route is never shown in full; the
 * page refreshes itself without JavaScript and says when it is in dry-run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook, post } from '../support/webhooks.ts';

const SECRET = 'admin-pages-secret-41cd';
let kube: FakeKubeApiServer;
let gateway: TestGateway;
const scratch = tempDir();

beforeAll(async () => {
  kube = await startFakeKubeApiServer();
  kube.addObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' });
  kube.addObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'infra' });
  gateway = await startTestGateway({
    config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: kubeconfig, kubeconfig: ${kube.writeKubeconfig(scratch.path)} }
reconcile: { retry: { maxAttempts: 2, initialDelay: 10ms, maxDelay: 10ms } }
admin: { recentDeliveries: 5 }
providers:
  - { name: github, type: github, secret: { env: HOOK_SECRET } }
  - { name: ci, type: generic, allowUnsigned: true, path: /hook/9f3a0c61e2b4d7a8 }
targets:
  - name: app
    providers: [github]
    match: { repository: your-org/app }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
  - name: half
    providers: [github]
    match: { repository: your-org/half }
    resources:
      - { kind: GitRepository, name: infra, namespace: flux-system }
      - { kind: GitRepository, name: missing, namespace: flux-system }
  - name: gone
    providers: [github]
    match: { repository: your-org/gone }
    resources: [{ kind: GitRepository, name: missing-too, namespace: flux-system }]
`,
    env: { HOOK_SECRET: SECRET },
  });
});
afterAll(async () => {
  await gateway.stop();
  await kube.stop();
  scratch.remove();
});

interface Record_ {
  deliveryId: string;
  outcome: string;
  state?: string;
  repository?: string;
  objects: { object: string; state: string; attempts?: number; latencyMs?: number; detail?: string }[];
}
const api = async (query = '') => (await (await fetch(`${gateway.adminUrl}/api/deliveries${query}`)).json()) as { deliveries: Record_[] };
const one = async (id: string) => (await fetch(`${gateway.adminUrl}/api/deliveries/${encodeURIComponent(id)}`)).json() as Promise<Record_>;

/** Pushes to `repository` and waits until the delivery's patches have ended; returns its record. */
async function pushTo(repository: string): Promise<Record_> {
  const hook = githubWebhook(SECRET, { repository, branch: 'main' });
  expect((await post(gateway.hook('github'), hook)).status).toBe(202);
  const id = hook.headers['x-github-delivery']!;
  // The patches run after the 202: wait (bounded) for them to end.
  const deadline = Date.now() + 10_000;
  let record = await one(id);
  while (record.state === 'pending') {
    if (Date.now() > deadline) throw new Error(`the patches of ${repository} did not end: ${JSON.stringify(record)}`);
    await Bun.sleep(5);
    record = await one(id);
  }
  return record;
}

describe('a delivery follows its patches', () => {
  test('all patched: state patched, one attempt, a latency', async () => {
    const record = await pushTo('your-org/app');
    expect(record).toMatchObject({ outcome: 'accepted', state: 'patched', objects: [{ object: 'GitRepository flux-system/app', state: 'patched', attempts: 1 }] });
    expect(record.objects[0]!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('one of two objects missing: partly-failed, the missing one named with its error', async () => {
    const record = await pushTo('your-org/half');
    expect(record.state).toBe('partly-failed');
    const states = Object.fromEntries(record.objects.map((object) => [object.object, object.state]));
    expect(states).toEqual({ 'GitRepository flux-system/infra': 'patched', 'GitRepository flux-system/missing': 'not-found' });
    expect(record.objects.find((object) => object.state === 'not-found')?.detail).toContain('404');
  });

  test('every object missing: failed', async () => {
    expect((await pushTo('your-org/gone')).state).toBe('failed');
  });

  test('the drill-down page shows each object with its attempts and error', async () => {
    const record = await pushTo('your-org/half');
    const html = await (await fetch(`${gateway.adminUrl}/deliveries/${encodeURIComponent(record.deliveryId)}`)).text();
    expect(html).toContain('partly-failed');
    expect(html).toContain('GitRepository flux-system/missing');
    expect(html).toContain('not-found');
    expect(html).not.toContain('http-equiv="refresh"'); // settled: nothing left to wait for
    expect((await fetch(`${gateway.adminUrl}/deliveries/no-such-delivery`)).status).toBe(404);
  });
});

describe('/api/deliveries', () => {
  test('filters by provider, outcome, state, repository and since; 400 for anything else', async () => {
    await pushTo('your-org/app');
    expect((await api('?state=failed')).deliveries.every((record) => record.state === 'failed')).toBe(true);
    expect((await api('?repository=ORG/APP')).deliveries.every((record) => record.repository?.toLowerCase().includes('org/app'))).toBe(true);
    expect((await api('?provider=ci')).deliveries).toEqual([]);
    expect((await api(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).deliveries).toEqual([]);
    expect((await api('?since=1h')).deliveries.length).toBeGreaterThan(0);
    const bad = await fetch(`${gateway.adminUrl}/api/deliveries?colour=red`);
    expect({ status: bad.status, body: await bad.json() }).toEqual({ status: 400, body: { error: 'unknown filter "colour": use provider, outcome, state, repository, since' } });
    expect((await fetch(`${gateway.adminUrl}/api/deliveries?since=yesterday`)).status).toBe(400);
  });

  test('admin.recentDeliveries bounds what is kept', async () => {
    for (let index = 0; index < 6; index += 1) await post(gateway.hook('github'), githubWebhook(SECRET, { repository: 'your-org/nowhere' }));
    expect((await api()).deliveries).toHaveLength(5);
  });
});

describe('the status page', () => {
  test('requests to unknown hooks are counted, logged once per window, and shown', async () => {
    for (const path of ['/hook/gihtub', '/hook/gihtub', `/hook/${'x'.repeat(300)}`]) expect((await post(`${gateway.url}${path}`, githubWebhook(SECRET))).status).toBe(404);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toContain('fluxgate_webhook_requests_total{provider="unknown",type="unknown",event="unknown",outcome="not_found"} 3');
    expect(gateway.log.lines.filter((line) => line.msg === 'request to an unknown path: no provider serves it')).toEqual([expect.objectContaining({ path: '/hook/gihtub' })]);
    const page = await (await fetch(`${gateway.adminUrl}/`)).text();
    expect(page).toContain('3 requests to unknown hook paths');
    expect(page).not.toContain('x'.repeat(100));
  });

  test('the admin pages asked of the webhook port: a 404 saying where they are, not counted as unknown hooks', async () => {
    const notFound = async () => (await (await fetch(`${gateway.adminUrl}/metrics`)).text()).split('\n').find((line) => line.includes('outcome="not_found"')) ?? 'none';
    const unknownLines = () => gateway.log.lines.filter((line) => line.msg === 'request to an unknown path: no provider serves it').length;
    const [countedBefore, loggedBefore] = [await notFound(), unknownLines()];
    for (const path of ['/metrics', '/', '/readyz', '/api/deliveries', '/deliveries/abc']) {
      const answer = await fetch(`${gateway.url}${path}`);
      expect({ path, status: answer.status, body: await answer.json() }).toEqual({
        path,
        status: 404,
        body: { error: 'not found: the status page, /api, /metrics and /readyz are on the admin listener (server.adminAddress), not on the webhook port, which serves POST /hook/… and GET /healthz' },
      });
    }
    expect(await notFound()).toBe(countedBefore);
    expect(unknownLines()).toBe(loggedBefore);
  });

  test("an unsigned provider's route is shown cut short, never whole", async () => {
    const page = await (await fetch(`${gateway.adminUrl}/`)).text();
    expect(page).toContain('/hook/9f3a…');
    expect(page).not.toContain('9f3a0c61e2b4d7a8');
    expect(page).toContain('<code>POST /hook/github</code>');
  });

  test('it refreshes itself without JavaScript, unless asked not to', async () => {
    expect(await (await fetch(`${gateway.adminUrl}/`)).text()).toContain('<meta http-equiv="refresh" content="5">');
    expect(await (await fetch(`${gateway.adminUrl}/?refresh=off`)).text()).not.toContain('http-equiv="refresh"');
  });

  test('the rows show the state the patches reached and link to the drill-down', async () => {
    const record = await pushTo('your-org/gone');
    const page = await (await fetch(`${gateway.adminUrl}/`)).text();
    expect(page).toContain(`<a href="/deliveries/${record.deliveryId}">`);
    expect(page).toContain('202 accepted</span> · <b class="failed">failed</b>');
  });
});

test('dry-run is a banner on the page', async () => {
  const dry = await startTestGateway({
    config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers: [{ name: github, type: github, secret: { env: HOOK_SECRET } }]
targets: [{ name: app, providers: [github], resources: [{ kind: GitRepository, name: app, namespace: flux-system }] }]
`,
    env: { HOOK_SECRET: SECRET },
  });
  try {
    expect(await (await fetch(`${dry.adminUrl}/`)).text()).toContain('<b>dry-run</b>: reconcile requests are logged, not sent to Kubernetes.');
  } finally {
    await dry.stop();
  }
});
