/**
 * The status page in a real browser (Debian's chromium, headless, driven by playwright-core): after a good
 * push, a bad signature, an unmatched branch and a push whose patch fails, a person sees each row with its
 * state, follows a row to its drill-down and reads why; a ref with bidirectional controls reads as it was sent.
 * A screenshot of each page is kept under `artifacts/` for whoever looks at a CI run.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubPushWith, githubWebhook, post } from '../support/webhooks.ts';

const SECRET = 'browser-test-secret-6e02';
const ARTIFACTS = join(import.meta.dir, '..', '..', 'artifacts');
/** Debian's chromium (`apt-get install chromium`; .ci/run installs it when missing). */
const CHROMIUM = process.env.FLUXGATE_CHROMIUM ?? '/usr/bin/chromium';

let kube: FakeKubeApiServer;
let gateway: TestGateway;
let browser: Browser;
const scratch = tempDir();

beforeAll(async () => {
  kube = await startFakeKubeApiServer();
  kube.addObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' });
  gateway = await startTestGateway({
    config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: kubeconfig, kubeconfig: ${kube.writeKubeconfig(scratch.path)} }
reconcile: { retry: { maxAttempts: 2, initialDelay: 10ms, maxDelay: 10ms } }
providers:
  - { name: github, type: github, secret: { env: HOOK_SECRET } }
targets:
  - name: app
    providers: [github]
    match: { repository: your-org/app, branches: [main] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
  - name: broken
    providers: [github]
    match: { repository: your-org/broken }
    resources: [{ kind: GitRepository, name: deleted-last-week, namespace: flux-system }]
`,
    env: { HOOK_SECRET: SECRET },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await kube?.stop();
  scratch.remove();
});

test('four deliveries, their rows and states, and a drill-down into the failed one', async () => {
  const good = githubWebhook(SECRET, { repository: 'your-org/app', branch: 'main' });
  const failing = githubWebhook(SECRET, { repository: 'your-org/broken', branch: 'main' });
  expect((await post(gateway.hook('github'), good)).status).toBe(202);
  expect((await post(gateway.hook('github'), githubWebhook('not-the-secret', { repository: 'your-org/app' }))).status).toBe(401);
  expect((await post(gateway.hook('github'), githubWebhook(SECRET, { repository: 'your-org/app', branch: 'feature/x' }))).status).toBe(200);
  expect((await post(gateway.hook('github'), failing)).status).toBe(202);

  const page = await browser.newPage();
  // The admin pages are served with a Content-Security-Policy that allows no script and nothing loaded: the page
  // must need nothing it forbids.
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  // Reload until both accepted deliveries have settled: the page itself refreshes, a person would wait too.
  const rows = async () => page.locator('h2:has-text("Recent deliveries") + table tr').allInnerTexts();
  const deadline = Date.now() + 15_000;
  let texts: string[] = [];
  do {
    await page.goto(`${gateway.adminUrl}/?refresh=off`);
    texts = await rows();
  } while (texts.some((text) => text.includes('pending')) && Date.now() < deadline);
  await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });

  // Its inline style applies under the policy.
  expect(await page.locator('table').first().evaluate((table) => table.ownerDocument.defaultView!.getComputedStyle(table).borderCollapse)).toBe('collapse');
  const body = texts.slice(1); // the heading row first
  expect(body).toHaveLength(4);
  // Newest first: the failed patch, the unmatched branch, the bad signature, the good push.
  expect(body[0]).toContain('202 accepted · failed');
  expect(body[0]).toContain('GitRepository flux-system/deleted-last-week: not-found');
  expect(body[1]).toContain('200 ignored');
  expect(body[1]).toContain('branch feature/x does not match [main]');
  expect(body[2]).toContain('401 rejected');
  expect(body[2]).toContain('signature');
  expect(body[3]).toContain('202 accepted · patched');
  expect(body[3]).toContain('GitRepository flux-system/app: patched');

  // The failed delivery's id is a link: follow it as a person would.
  await page.click(`a:has-text("${failing.headers['x-github-delivery']}")`);
  await page.waitForURL(/\/deliveries\//);
  await page.screenshot({ path: join(ARTIFACTS, 'delivery-page.png'), fullPage: true });
  const detail = await page.locator('body').innerText();
  expect(detail).toContain('failed');
  expect(detail).toContain('your-org/broken');
  const objectRow = await page.locator('h2:has-text("Objects") + table tr').nth(1).innerText();
  expect(objectRow).toContain('GitRepository flux-system/deleted-last-week');
  expect(objectRow).toContain('not-found');
  expect(objectRow).toContain('404');
  expect(refused).toEqual([]);

  // The status page keeps itself current with a meta refresh, which the policy must let through.
  await page.goto(`${gateway.adminUrl}/`);
  const refreshed = page.waitForEvent('framenavigated', { timeout: 30_000 });
  expect((await refreshed).url()).toBe(`${gateway.adminUrl}/`);
  expect(refused).toEqual([]);
  await page.close();
}, 60_000);

test('a ref with a right-to-left override is read as it was sent, the override shown as \\u202e', async () => {
  const dry = await startTestGateway({
    config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers: [{ name: github, type: github, secret: { env: HOOK_SECRET } }]
targets: [{ name: app, providers: [github], resources: [{ kind: GitRepository, name: app, namespace: flux-system }] }]
`,
    env: { HOOK_SECRET: SECRET },
  });
  const page = await browser.newPage();
  try {
    // Shown as sent, U+202E would make this read "release-exe.gnp" backwards from the override on.
    const hook = githubPushWith(SECRET, (payload) => void (payload.ref = 'refs/heads/release-\u202egnp.exe\u2066\u2069'));
    expect((await post(dry.hook('github'), hook)).status).toBe(202);
    await page.goto(`${dry.adminUrl}/?refresh=off`);
    const row = await page.locator('h2:has-text("Recent deliveries") + table tr').nth(1).innerText();
    expect(row).toContain('refs/heads/release-\\u202egnp.exe\\u2066\\u2069');
    expect(row).not.toMatch(/[\u202e\u2066\u2069]/);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-bidi.png'), fullPage: true });
  } finally {
    await page.close();
    await dry.stop();
  }
}, 60_000);
