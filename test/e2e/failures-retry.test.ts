/**
 * Failed reconcile requests as a user meets them: an object that does not exist (404) ends its work at once and is
 * kept as a failure; `/api/failures` lists it, the status page shows it with a retry button, and the retry — the
 * page's form, the API, or `fluxgate retry` — owes it again, so once the object exists it is patched. Actions come
 * from the page or a client, never from another site's page.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { runFluxgate } from '../support/cli.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook, post } from '../support/webhooks.ts';

const SECRET = 'failures-secret-5c8d';
const GITREPO = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system' };
let kube: FakeKubeApiServer;
let kubeconfig: string;
const scratch = tempDir();

beforeAll(async () => {
  kube = await startFakeKubeApiServer();
  kubeconfig = kube.writeKubeconfig(scratch.path);
  kube.addObject({ ...GITREPO, name: 'present' });
});
afterAll(async () => {
  await kube.stop();
  scratch.remove();
});

/** Polls an async condition every 20 ms (bounded). */
async function eventually(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** A gateway whose one target names `present` (which exists) and `missing` (which does not, until a test adds it). */
async function start(missing: string, extra = ''): Promise<TestGateway> {
  return startTestGateway({
    config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: kubeconfig, kubeconfig: ${kubeconfig}, events: false }
reconcile: { debounce: 100ms, retry: { initialDelay: 50ms, maxDelay: 200ms } }
${extra}providers: [{ name: github, type: github, secret: { value: ${SECRET} } }]
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, namespace: flux-system, name: present }, { kind: GitRepository, namespace: flux-system, name: ${missing} }]
`,
  });
}

const failuresOf = async (gateway: TestGateway, headers: Record<string, string> = {}) => (await (await fetch(`${gateway.adminUrl}/api/failures`, { headers })).json()) as { failures: { seq: number; object: string; outcome: string; error: string; deliveries: string[] }[] };

async function failOnce(gateway: TestGateway): Promise<void> {
  const response = await post(gateway.hook('github'), githubWebhook(SECRET, { deliveryId: 'delivery-with-a-missing-object' }));
  expect(response.status).toBe(202);
  await eventually(async () => (await failuresOf(gateway, { authorization: 'Bearer admin-token-9f3e' })).failures.length === 1, 'the failure to be kept');
}

describe('failed reconcile requests', () => {
  test('a 404 is kept as a failure; the API lists it, the page shows it, a retry owes it again and it is patched once the object exists', async () => {
    const gateway = await start('missing');
    try {
      await failOnce(gateway);
      const { failures } = await failuresOf(gateway);
      expect(failures).toEqual([{ seq: 1, object: 'GitRepository flux-system/missing', outcome: 'not_found', error: expect.any(String), attempts: 1, failedAt: expect.any(String), deliveries: ['delivery-with-a-missing-object'] } as never]);
      const page = await (await fetch(`${gateway.adminUrl}/`)).text();
      expect(page).toContain('<h3>Failed reconcile requests</h3>');
      expect(page).toContain('<form method="post" action="/api/failures/retry?seq=1"><button>retry</button></form>');

      kube.addObject({ ...GITREPO, name: 'missing' });
      const patchesBefore = kube.patches.filter((patch) => patch.path.endsWith('/missing')).length;
      // The page's button: a form POST from the same origin, answered with a redirect back to the page.
      const fromPage = await fetch(`${gateway.adminUrl}/api/failures/retry?seq=1`, { method: 'POST', headers: { accept: 'text/html', 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }, redirect: 'manual' });
      expect(fromPage.status).toBe(303);
      expect(fromPage.headers.get('location')).toBe('/');
      await eventually(() => kube.patches.filter((patch) => patch.path.endsWith('/missing')).length > patchesBefore, 'the retried patch');
      expect((await failuresOf(gateway)).failures).toEqual([]);
    } finally {
      await gateway.stop();
    }
  });

  test('another site\'s page cannot retry; a bad seq is a 400; GET is a 405', async () => {
    const gateway = await start('missing-2');
    try {
      await failOnce(gateway);
      const crossSite = await fetch(`${gateway.adminUrl}/api/failures/retry`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
      expect(crossSite.status).toBe(403);
      expect((await fetch(`${gateway.adminUrl}/api/failures/retry?seq=abc`, { method: 'POST' })).status).toBe(400);
      expect((await fetch(`${gateway.adminUrl}/api/failures/retry`)).status).toBe(405);
      expect((await failuresOf(gateway)).failures).toHaveLength(1);
    } finally {
      await gateway.stop();
    }
  });

  test('with admin.token, the list and the retry need it; fluxgate retry lists and retries through the admin listener with it', async () => {
    const gateway = await start('missing-3', 'admin: { token: { value: admin-token-9f3e } }\n');
    try {
      await failOnce(gateway);
      expect((await fetch(`${gateway.adminUrl}/api/failures`)).status).toBe(401);
      expect((await fetch(`${gateway.adminUrl}/api/failures/retry`, { method: 'POST' })).status).toBe(401);

      const listed = await runFluxgate(['retry', '--config', gateway.configPath, '--admin', gateway.adminUrl]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^1\t\S+\tGitRepository flux-system\/missing-3\tnot_found: .*\tdelivery-with-a-missing-object$/m);
      // The command it suggests is the one that ran (from the checkout: npx bun src/main.ts), with the numbers or --all.
      const ran = `npx bun src/main.ts retry --config ${gateway.configPath} --admin ${gateway.adminUrl}`;
      expect(listed.stdout).toContain(`retry some with: ${ran} SEQ..., or all with: ${ran} --all`);

      const unknown = await runFluxgate(['retry', '7', '--config', gateway.configPath, '--admin', gateway.adminUrl]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('1 of the numbers given are not kept failures');

      const retried = await runFluxgate(['retry', '--all', '--config', gateway.configPath, '--admin', gateway.adminUrl]);
      expect(retried.code).toBe(0);
      expect(retried.stdout.trim()).toBe('owed again: 1');
      // Still missing: it fails again, and is kept again.
      await eventually(async () => (await failuresOf(gateway, { authorization: 'Bearer admin-token-9f3e' })).failures.length === 1, 'the failure kept again');
    } finally {
      await gateway.stop();
    }
  });

  test('fluxgate retry without a running gateway says what to check', async () => {
    const gateway = await start('missing-4');
    const configPath = gateway.configPath;
    const adminUrl = gateway.adminUrl;
    await gateway.shutdown();
    const result = await runFluxgate(['retry', '--config', configPath, '--admin', adminUrl]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`fluxgate retry: cannot reach the admin listener at ${adminUrl}`);
    expect(result.stderr).toContain('is fluxgate running, and is server.adminAddress (or --admin) right?');
  });
});
