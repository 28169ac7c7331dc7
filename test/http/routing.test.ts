/**
 * Routing depends on the request line only, never on the Host header: raw sockets send exactly the Host
 * (or none) and the request-target form under test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loopbackServerExt, withPkiDir } from '../support/test-pki.ts';
import type { TestGateway } from '../support/gateway.ts';
import { githubWebhook } from '../support/webhooks.ts';
import { SECRET, startHttpGateway } from './http-gateway.ts';
import { head, rawExchange } from './raw-http.ts';

/** A signed GitHub push as raw bytes: `requestLine` and `host` (null = no Host header) as given. */
function signedPush(requestLine: string, host: string | null): Buffer {
  const hook = githubWebhook(SECRET);
  const headers: Record<string, string | number> = { ...(host === null ? {} : { Host: host }), ...hook.headers, 'Content-Length': hook.body.byteLength, Connection: 'close' };
  return Buffer.concat([Buffer.from(head(requestLine, headers)), hook.body]);
}

describe('over plain HTTP', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startHttpGateway();
  });
  afterAll(() => gateway.stop());

  test('Host: x does not turn /hook/metrics or /hook/api/deliveries into the pages they end with', async () => {
    for (const path of ['/hook/metrics', '/hook/api/deliveries']) {
      const response = await rawExchange(gateway.port, head(`GET ${path} HTTP/1.1`, { Host: 'x', Connection: 'close' }));
      expect(response.status).toBe(404);
      expect(response.body).not.toContain('fluxgate_');
      expect(response.body).not.toContain('deliveries":[');
    }
  });

  test('a signed push is accepted whatever the Host: one letter, two letters, an IP with port', async () => {
    for (const host of ['x', 'gw', `127.0.0.1:${gateway.port}`, 'hooks.example.com']) {
      const response = await rawExchange(gateway.port, signedPush('POST /hook/github HTTP/1.1', host));
      expect({ host, status: response.status }).toEqual({ host, status: 202 });
    }
  });

  test('without a Host header (HTTP/1.0) the path still routes', async () => {
    const response = await rawExchange(gateway.port, signedPush('POST /hook/github HTTP/1.0', null));
    expect(response.status).toBe(202);
    const page = await rawExchange(gateway.port, head('GET /hook/metrics HTTP/1.0', {}));
    expect(page.status).toBe(404);
  });

  test('an absolute-form request line routes on its path', async () => {
    const response = await rawExchange(gateway.port, signedPush('POST http://gw/hook/github HTTP/1.1', 'gw'));
    expect(response.status).toBe(202);
    const page = await rawExchange(gateway.port, head('GET http://x/hook/metrics HTTP/1.1', { Host: 'x', Connection: 'close' }));
    expect(page.status).toBe(404);
    const metrics = await rawExchange(Number(new URL(gateway.adminUrl).port), head('GET http://x/metrics HTTP/1.1', { Host: 'x', Connection: 'close' }));
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('fluxgate_webhook_requests_total');
  });

  test('a Host header that looks like a path does not become one', async () => {
    for (const host of ['x/metrics', 'x/hook/github?', 'a@b', '']) {
      const response = await rawExchange(gateway.port, head('GET /hook/metrics HTTP/1.1', { Host: host, Connection: 'close' }));
      expect({ host, status: response.status === 404 || response.status === 400 }).toEqual({ host, status: true });
    }
  });
});

describe('malformed paths', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startHttpGateway();
  });
  afterAll(() => gateway.stop());

  test('a delivery id that is not valid percent-encoding is a 400 saying so, as a page and in the API', async () => {
    const admin = Number(new URL(gateway.adminUrl).port);
    for (const path of ['/deliveries/%ZZ', '/api/deliveries/%ZZ', '/deliveries/%', '/api/deliveries/%E0%A4%A', '/deliveries/%C0%AF']) {
      const response = await rawExchange(admin, head(`GET ${path} HTTP/1.1`, { Host: 'gw', Connection: 'close' }));
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(JSON.parse(response.body)).toEqual({ error: 'the delivery id in the path is not valid percent-encoding' });
    }
  });

  test('no request line on either listener is answered with a 5xx', async () => {
    const paths = ['/deliveries/%ZZ', '/api/deliveries/%00', '/hook/%ZZ', '/hook/github%ZZ', '/%ZZ', '*', '//', '/..', '/hook/../metrics', '/%2e%2e/metrics', 'http://x/%ZZ', '/api/deliveries?since=%ZZ', '/?refresh=%ZZ', '/metrics?%ZZ', `/deliveries/${'%41'.repeat(3000)}`];
    const ports = { webhook: gateway.port, admin: Number(new URL(gateway.adminUrl).port) };
    for (const [listener, port] of Object.entries(ports)) {
      for (const path of paths) {
        for (const method of ['GET', 'POST']) {
          const body = method === 'POST' ? '{}' : '';
          const response = await rawExchange(port, head(`${method} ${path} HTTP/1.1`, { Host: 'gw', Connection: 'close', ...(body ? { 'Content-Length': body.length } : {}) }) + body);
          expect({ listener, method, path, status: response.status < 500 }).toEqual({ listener, method, path, status: true });
        }
      }
    }
    expect(gateway.log.lines.filter((line) => line.msg === 'request failed')).toEqual([]);
  });
});

describe('over HTTPS', () => {
  test('hooks and pages route the same under TLS, with a short Host too', async () => {
    const gateway = await withPkiDir(async (pki) => {
      await pki.makeCa('ca', 'fluxgate test CA');
      await pki.makeLeaf('server', 'ca', '/CN=localhost', loopbackServerExt());
      return startHttpGateway({ tls: { cert: pki.read('server.crt'), key: pki.read('server.key') } });
    });
    try {
      expect(gateway.url).toStartWith('https://');
      const tls = { rejectUnauthorized: false };
      const hook = githubWebhook(SECRET);
      const accepted = await fetch(gateway.hook('github'), { method: 'POST', headers: hook.headers, body: hook.body, tls } as RequestInit);
      expect(accepted.status).toBe(202);
      expect((await fetch(`${gateway.url}/healthz`, { tls } as RequestInit)).status).toBe(200);
      const short = await fetch(`${gateway.url}/hook/metrics`, { headers: { host: 'x' }, tls } as RequestInit);
      expect(short.status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });
});
