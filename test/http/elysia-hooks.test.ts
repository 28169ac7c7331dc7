/**
 * Each hook of the HTTP layer on its own, on a bare Elysia app: what it answers, what it lets through, and what
 * it counts. (The listeners' tests show them together over real sockets.)
 */
import { describe, expect, test } from 'bun:test';
import { Elysia, t } from 'elysia';
import { adminBearer } from '../../src/http/admin-bearer.ts';
import { forElysia } from '../../src/http/elysia-request.ts';
import { errorAnswers } from '../../src/http/error-answers.ts';
import { refuseBodies } from '../../src/http/refuse-bodies.ts';
import { createRequestGate, gated } from '../../src/http/request-gate.ts';
import { unknownRoutes } from '../../src/http/unknown-routes.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const ok = () => new Response('ok');
const at = (path: string, init?: RequestInit) => new Request(`http://fluxgate.invalid${path}`, init);
const answer = async (response: Response) => ({ status: response.status, body: await response.text(), connection: response.headers.get('connection') });

describe('refuseBodies', () => {
  const app = new Elysia().use(refuseBodies()).get('/page', ok).post('/page', ok);
  test('a body is refused with 413 before routing, and the connection closes; no body passes', async () => {
    expect(await answer(await app.handle(at('/page', { method: 'POST', body: 'x', headers: { 'content-length': '1' } })))).toEqual({ status: 413, body: '{"error":"this route takes no body"}', connection: 'close' });
    expect(await answer(await app.handle(at('/nowhere', { method: 'POST', body: 'x', headers: { 'content-length': '1' } })))).toMatchObject({ status: 413 });
    expect(await answer(await app.handle(at('/page', { method: 'POST', headers: { 'content-length': '0' } })))).toMatchObject({ status: 200 });
  });
});

describe('adminBearer', () => {
  let token: string | undefined = 'secret-token-7c1d';
  const app = new Elysia().use(adminBearer(() => token, (path) => path.startsWith('/api/'))).get('/api/x', ok, { query: t.Object({ n: t.Numeric() }) }).get('/open', ok);
  test('guarded paths want the token, before their query is validated; others do not', async () => {
    const none = await app.handle(at('/api/x?n=bogus'));
    expect({ ...(await answer(none)), challenge: none.headers.get('www-authenticate') }).toEqual({ status: 401, body: '{"error":"this page needs the admin token (Authorization: Bearer …)"}', connection: null, challenge: 'Bearer' });
    expect((await answer(await app.handle(at('/api/x?n=1', { headers: { authorization: 'Bearer wrong' } })))).body).toBe('{"error":"the admin token does not match"}');
    expect((await app.handle(at('/api/x?n=1', { headers: { authorization: 'bearer secret-token-7c1d' } }))).status).toBe(200);
    expect((await app.handle(at('/open'))).status).toBe(200);
  });
  test('the token is read per request: none set, none wanted', async () => {
    token = undefined;
    expect((await app.handle(at('/api/x?n=1'))).status).toBe(200);
  });
});

describe('unknownRoutes and errorAnswers', () => {
  const counted: string[] = [];
  const log = memoryLogger();
  const app = new Elysia()
    .use(unknownRoutes((path) => counted.push(path)))
    .use(errorAnswers(log))
    .get('/boom', () => {
      throw new Error('database on fire');
    })
    .get('/list', ok, { query: t.Object({ state: t.Optional(t.Literal('on', { error: 'state is on' })) }, { additionalProperties: false }) });
  test('no route: counted, and 404 — or 413 when a body came (only hooks read one)', async () => {
    expect(await answer(await app.handle(at('/nowhere')))).toEqual({ status: 404, body: '{"error":"not found"}', connection: null });
    expect(await answer(await app.handle(at('/nowhere', { method: 'POST', body: 'x', headers: { 'content-length': '1' } })))).toEqual({ status: 413, body: '{"error":"this route takes no body"}', connection: 'close' });
    expect(counted).toEqual(['/nowhere', '/nowhere']);
  });
  test('a refused query is a 400 with the schema\'s message; a throw is a logged 500 that shows nothing of it', async () => {
    expect((await answer(await app.handle(at('/list?state=off')))).body).toBe('{"error":"state is on"}');
    expect(await answer(await app.handle(at('/boom')))).toEqual({ status: 500, body: '{"error":"internal error"}', connection: null });
    expect(log.lines).toEqual([expect.objectContaining({ msg: 'request failed', path: '/boom', error: 'database on fire' })]);
  });
});

test('gated: busy when full, and the request leaves whatever its work does', async () => {
  const gate = createRequestGate(1);
  const busy = () => new Response('busy', { status: 503 });
  let release = () => {};
  const held = gated(gate, busy, () => new Promise<Response>((resolve) => (release = () => resolve(ok()))));
  expect((await gated(gate, busy, async () => ok())).status).toBe(503);
  release();
  expect((await held).status).toBe(200);
  await expect(gated(gate, busy, async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
  expect(gate.inFlight()).toBe(0);
});

describe('forElysia', () => {
  test('a URL whose path starts where Elysia looks is handed on as it is', () => {
    const request = new Request('http://127.0.0.1:8080/hook/github');
    expect(forElysia(request)).toBe(request);
    const long = new Request('https://hooks.example.com/hook/github');
    expect(forElysia(long)).toBe(long);
  });
  test('a short host, or none, becomes the fixed origin with the same path, query, method, headers and body', async () => {
    const copy = forElysia(new Request('https://x/hook/github?a=1', { method: 'POST', headers: { 'x-github-event': 'push' }, body: '{"a":1}' }));
    expect({ url: copy.url, method: copy.method, event: copy.headers.get('x-github-event'), body: await copy.text() }).toEqual({ url: 'http://fluxgate.invalid/hook/github?a=1', method: 'POST', event: 'push', body: '{"a":1}' });
  });
});
