/**
 * The request line's path is the path, whatever the Host header says (or does not): each request is answered
 * by the handler its path names, or 404, on both listeners, over HTTP and TLS (the webhook listener; the admin
 * listener speaks plain HTTP only). Raw sockets send exactly the request line and Host under test. The webhook
 * listener's hook route names the path it was given in its 404, so a misrouted path shows.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { loopbackServerExt, withPkiDir } from '../support/test-pki.ts';
import { githubWebhook } from '../support/webhooks.ts';
import { ADMIN_ELSEWHERE } from '../../src/http/admin-elsewhere.ts';
import { SECRET, startHttpGateway } from './http-gateway.ts';
import { head, rawConnect, type RawResponse, rawExchange } from './raw-http.ts';

/** How a request names its target: the Host header it sends (none: HTTP/1.0), or the absolute form. */
const shapes: { name: string; line: (method: string, path: string) => string; headers: Record<string, string> }[] = [
  { name: 'Host: x', line: (method, path) => `${method} ${path} HTTP/1.1`, headers: { Host: 'x' } },
  { name: 'Host: gw', line: (method, path) => `${method} ${path} HTTP/1.1`, headers: { Host: 'gw' } },
  { name: 'Host: a:1', line: (method, path) => `${method} ${path} HTTP/1.1`, headers: { Host: 'a:1' } },
  { name: 'HTTP/1.0 without Host', line: (method, path) => `${method} ${path} HTTP/1.0`, headers: {} },
  { name: 'absolute form', line: (method, path) => `${method} http://x${path} HTTP/1.1`, headers: { Host: 'x' } },
  { name: 'Host: a/b', line: (method, path) => `${method} ${path} HTTP/1.1`, headers: { Host: 'a/b' } },
];
const paths = ['/hook/metrics', '/metrics', '/healthz', '/zzzz/metrics', '/hook/aaaaa/metrics', '//x/hook/metrics', '//hook/metrics', '//hook/healthz', '/hook/api/deliveries'];

type Expected = { status: number; body: unknown };

/** The webhook listener: `/hook/*` is the hook route (no provider at these paths), `/healthz` the probe; `/metrics` is on the admin listener, and says so. */
function webhookAnswer(method: string, path: string): Expected {
  if (path.startsWith('/hook/')) return { status: 404, body: { error: `no provider at ${path}` } };
  if (path === '/healthz') return method === 'GET' ? { status: 200, body: { status: 'ok' } } : { status: 405, body: { error: 'use GET' } };
  if (path === '/metrics') return { status: 404, body: { error: ADMIN_ELSEWHERE } };
  return { status: 404, body: { error: 'not found' } };
}

/** The admin listener: `/metrics` and `/healthz` answer GET; nothing else here is a route. */
function adminAnswer(method: string, path: string): Expected {
  if (path === '/metrics' || path === '/healthz') return method === 'GET' ? { status: 200, body: path === '/metrics' ? 'metrics' : { status: 'ok' } } : { status: 405, body: { error: 'use GET' } };
  return { status: 404, body: { error: 'not found' } };
}

function seen(response: RawResponse): Expected {
  if (response.status === 200 && response.body.includes('fluxgate_webhook_requests_total')) return { status: 200, body: 'metrics' };
  try {
    return { status: response.status, body: JSON.parse(response.body) };
  } catch {
    return { status: response.status, body: response.body.slice(0, 200) };
  }
}

async function checkAll(port: number, expected: (method: string, path: string) => Expected, tls = false): Promise<void> {
  for (const shape of shapes) {
    for (const path of paths) {
      // POST with an empty body: a request line that starts with // is no less a path for a POST (Host: a/b leaves the URL relative).
      for (const method of ['GET', 'POST']) {
        const headers = { ...shape.headers, Connection: 'close', ...(method === 'POST' ? { 'Content-Length': '0' } : {}) };
        const response = await rawExchange(port, head(shape.line(method, path), headers), { tls });
        expect({ shape: shape.name, method, path, ...seen(response) }).toEqual({ shape: shape.name, method, path, ...expected(method, path) });
      }
    }
  }
}

describe('over plain HTTP', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startHttpGateway();
  });
  afterAll(() => gateway.stop());

  test('the webhook listener answers each path with the handler it names, whatever the Host', async () => {
    await checkAll(gateway.port, webhookAnswer);
  });

  test('the admin listener answers each path with the handler it names, whatever the Host', async () => {
    await checkAll(Number(new URL(gateway.adminUrl).port), adminAnswer);
  });

  test('with a short Host the body keeps its bounds: streamed in chunks and accepted, or refused from its declared length', async () => {
    const hook = githubWebhook(SECRET);
    const chunked = await rawConnect(gateway.port);
    chunked.write(head('POST /hook/github HTTP/1.1', { Host: 'x', ...hook.headers, 'Transfer-Encoding': 'chunked', Connection: 'close' }));
    for (let offset = 0; offset < hook.body.byteLength; offset += 1000) {
      const chunk = hook.body.subarray(offset, offset + 1000);
      chunked.write(`${chunk.byteLength.toString(16)}\r\n`);
      chunked.write(chunk);
      chunked.write('\r\n');
    }
    chunked.write('0\r\n\r\n');
    expect((await chunked.response()).status).toBe(202);
    chunked.destroy();
    const declared = await rawConnect(gateway.port);
    declared.write(head('POST /hook/github HTTP/1.0', { 'X-GitHub-Event': 'push', 'Content-Length': 10737418240 }));
    const refused = await declared.response();
    expect({ status: refused.status, body: JSON.parse(refused.body) }).toEqual({ status: 413, body: { error: 'body larger than 4194304 bytes' } });
    await declared.waitClosed();
  });
});

describe('over TLS', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await withPkiDir(async (pki) => {
      await pki.makeCa('ca', 'fluxgate test CA');
      await pki.makeLeaf('server', 'ca', '/CN=localhost', loopbackServerExt());
      return startHttpGateway({ tls: { cert: pki.read('server.crt'), key: pki.read('server.key') } });
    });
  });
  afterAll(() => gateway.stop());

  test('the webhook listener answers each path with the handler it names, whatever the Host', async () => {
    expect(gateway.url).toStartWith('https://');
    await checkAll(gateway.port, webhookAnswer, true);
  });
});
