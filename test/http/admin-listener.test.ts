/**
 * Two listeners: the webhook port answers only /hook/* and /healthz, whatever else is asked of it; the
 * admin port serves the status page, /api/deliveries, /metrics and the probes, and never a hook. An admin
 * token guards the page and the API, never the metrics or the probes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runIsolated } from '../support/isolated-cli.ts';
import type { TestGateway } from '../support/gateway.ts';
import { startTestGateway } from '../support/gateway.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook } from '../support/webhooks.ts';
import { httpConfig, SECRET, startHttpGateway } from './http-gateway.ts';

const TOKEN = 'admin-token-3f9c1e7b52d4';

function get(url: string, headers: Record<string, string> = {}) {
  return fetch(url, { headers });
}

describe('the two listeners', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startHttpGateway();
  });
  afterAll(() => gateway.stop());

  test('they listen on different ports', () => {
    expect(new URL(gateway.adminUrl).port).not.toBe(new URL(gateway.url).port);
  });

  test('the webhook port serves hooks and /healthz, and 404s the status page, the API, /metrics and /readyz', async () => {
    const hook = githubWebhook(SECRET);
    expect((await fetch(gateway.hook('github'), { method: 'POST', headers: hook.headers, body: hook.body })).status).toBe(202);
    expect((await get(`${gateway.url}/healthz`)).status).toBe(200);
    for (const path of ['/', '/api/deliveries', '/metrics', '/readyz']) {
      const response = await get(`${gateway.url}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      const body = await response.text();
      expect(body).not.toContain('fluxgate_');
      expect(body).not.toContain('deliveries');
    }
  });

  test('the admin port serves the page, the API, /metrics and both probes, and no hook', async () => {
    expect((await get(`${gateway.adminUrl}/healthz`)).status).toBe(200);
    expect((await get(`${gateway.adminUrl}/readyz`)).status).toBe(200);
    const metrics = await get(`${gateway.adminUrl}/metrics`);
    expect(await metrics.text()).toContain('fluxgate_webhook_requests_total');
    const page = await get(`${gateway.adminUrl}/`);
    expect(page.headers.get('content-type')).toStartWith('text/html');
    expect(await page.text()).toContain('fluxgate');
    expect((await (await get(`${gateway.adminUrl}/api/deliveries`)).json())).toHaveProperty('deliveries');
    const hook = githubWebhook(SECRET);
    const refused = await fetch(`${gateway.adminUrl}/hook/github`, { method: 'POST', headers: hook.headers, body: hook.body });
    expect(refused.status).toBe(413); // admin routes read no body; a hook's body is refused unread
    expect((await get(`${gateway.adminUrl}/hook/github`)).status).toBe(404);
  });
});

describe('admin.token', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      config: `${httpConfig()}admin:\n  token: { file: admin-token }\n`,
      env: { HOOK_SECRET: SECRET },
      files: { 'admin-token': `${TOKEN}\n` },
    });
  });
  afterAll(() => gateway.stop());

  test('the page and the API answer 401 without the token, or with another, and 200 with it', async () => {
    for (const path of ['/', '/api/deliveries']) {
      const none = await get(`${gateway.adminUrl}${path}`);
      expect({ path, status: none.status, challenge: none.headers.get('www-authenticate') }).toEqual({ path, status: 401, challenge: 'Bearer' });
      expect((await get(`${gateway.adminUrl}${path}`, { authorization: 'Bearer not-the-token' })).status).toBe(401);
      expect((await get(`${gateway.adminUrl}${path}`, { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` })).status).toBe(401);
      expect((await get(`${gateway.adminUrl}${path}`, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    }
  });

  test('metrics and probes need no token: Prometheus and kubelet carry none', async () => {
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      expect({ path, status: (await get(`${gateway.adminUrl}${path}`)).status }).toEqual({ path, status: 200 });
    }
  });

  test('every answer carries a script-free CSP, nosniff, X-Frame-Options DENY and no referrer: pages, API, metrics, probes, refusals', async () => {
    const withToken = { authorization: `Bearer ${TOKEN}` };
    const requests: [string, RequestInit, number][] = [
      ['/', {}, 401],
      ['/', { headers: { authorization: 'Bearer not-the-token' } }, 401],
      ['/', { headers: withToken }, 200],
      ['/?refresh=off', { headers: withToken }, 200],
      ['/api/deliveries', { headers: withToken }, 200],
      ['/api/deliveries?no-such-filter=1', { headers: withToken }, 400],
      ['/api/deliveries/no-such-delivery', { headers: withToken }, 404],
      ['/deliveries/no-such-delivery', { headers: withToken }, 404],
      ['/deliveries/%ZZ', { headers: withToken }, 400],
      ['/metrics', {}, 200],
      ['/healthz', {}, 200],
      ['/readyz', {}, 200],
      ['/no-such-page', {}, 404],
      ['/metrics', { method: 'DELETE' }, 405],
      ['/', { method: 'POST', body: '{}' }, 413],
    ];
    for (const [path, init, status] of requests) {
      const response = await fetch(`${gateway.adminUrl}${path}`, init);
      await response.arrayBuffer();
      expect({ path, status: response.status, csp: response.headers.get('content-security-policy'), sniff: response.headers.get('x-content-type-options'), frame: response.headers.get('x-frame-options'), referrer: response.headers.get('referrer-policy') }).toEqual({
        path,
        status,
        csp: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        sniff: 'nosniff',
        frame: 'DENY',
        referrer: 'no-referrer',
      });
    }
  });

  test('the token appears in no answer and no log line', async () => {
    const answers = await Promise.all(['/', '/api/deliveries', '/metrics'].map(async (path) => (await get(`${gateway.adminUrl}${path}`, { authorization: `Bearer ${TOKEN}` })).text()));
    const wrong = await (await get(`${gateway.adminUrl}/`, { authorization: `Bearer ${TOKEN}x` })).text();
    expect([...answers, wrong, JSON.stringify(gateway.log.lines)].join('\n')).not.toContain(TOKEN);
  });
});

test('admin.statusPage: false turns the page off; the API and metrics stay', async () => {
  const gateway = await startTestGateway({ config: `${httpConfig()}admin: { statusPage: false }\n`, env: { HOOK_SECRET: SECRET } });
  try {
    expect((await get(`${gateway.adminUrl}/`)).status).toBe(404);
    expect((await get(`${gateway.adminUrl}/api/deliveries`)).status).toBe(200);
    expect((await get(`${gateway.adminUrl}/metrics`)).status).toBe(200);
  } finally {
    await gateway.stop();
  }
});

test('an admin port already taken stops serve with an error naming server.adminAddress, and exit 1', async () => {
  const taken = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'fluxgate.yaml'), httpConfig([`adminAddress: 127.0.0.1:${taken.port}`]));
    const served = await runIsolated(['serve', '--config', 'fluxgate.yaml'], { cwd: dir.path, env: { HOOK_SECRET: SECRET }, guardMs: 20_000 });
    expect(served.code).toBe(1);
    expect(served.stderr).toContain(`fluxgate: cannot listen on 127.0.0.1:${taken.port} (server.adminAddress)`);
  } finally {
    taken.stop(true);
    dir.remove();
  }
});
