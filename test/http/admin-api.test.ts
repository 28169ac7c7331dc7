/**
 * The admin API validates every query parameter (a value or a parameter it does not allow is a 400 naming what
 * is allowed), describes itself in an OpenAPI document behind the admin token, and every answer — Elysia's own
 * 404s and validation 400s too — carries the admin listener's security headers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { adminHeaders } from '../../src/http/admin-headers.ts';
import type { TestGateway } from '../support/gateway.ts';
import { startTestGateway } from '../support/gateway.ts';
import { httpConfig, SECRET, startHttpGateway } from './http-gateway.ts';

const TOKEN = 'admin-token-a81f3c0e';

describe('without an admin token', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startHttpGateway();
  });
  afterAll(() => gateway.stop());
  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${gateway.adminUrl}${path}`, init);
    return { status: response.status, body: (await response.json()) as any };
  };

  test('a filter value that is not allowed is a 400 naming the allowed values', async () => {
    expect(await get('/api/deliveries?state=bogus')).toEqual({ status: 400, body: { error: 'state is one of pending, patched, dry-run, partly-failed, failed, relayed' } });
    expect(await get('/api/deliveries?outcome=maybe')).toEqual({ status: 400, body: { error: 'outcome is one of accepted, ignored, rejected' } });
    expect(await get(`/api/deliveries?repository=${'r'.repeat(257)}`)).toEqual({ status: 400, body: { error: 'repository is longer than 256 characters' } });
    expect(await get('/api/deliveries?state=failed&outcome=accepted')).toEqual({ status: 200, body: { deliveries: [] } });
  });

  test('routes that take no parameter refuse one; the page takes refresh=on|off only', async () => {
    expect(await get('/api/failures?all=1')).toEqual({ status: 400, body: { error: 'unknown parameter "all": this route takes none' } });
    expect(await get('/api/deliveries/some-id?x=1')).toEqual({ status: 400, body: { error: 'unknown parameter "x": this route takes none' } });
    expect((await fetch(`${gateway.adminUrl}/?refresh=sometimes`)).status).toBe(400);
    expect((await fetch(`${gateway.adminUrl}/?refresh=on`)).status).toBe(200);
  });

  test('retry numbers are positive integers', async () => {
    for (const seq of ['0', '-1', '1.5', 'x', '99999999999999999999']) {
      expect({ seq, ...(await get(`/api/failures/retry?seq=${seq}`, { method: 'POST' })) }).toEqual({ seq, status: 400, body: { error: 'seq: the number of a failure from /api/failures' } });
    }
    expect(await get('/api/failures/retry?seq=7', { method: 'POST' })).toEqual({ status: 200, body: { retried: 0 } });
  });

  test('the OpenAPI document lists the admin API with its parameters and their allowed values', async () => {
    const { status, body } = await get('/api/openapi');
    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/api/deliveries', '/api/failures', '/api/failures/retry', '/metrics', '/healthz', '/readyz']));
    const state = body.paths['/api/deliveries'].get.parameters.find((parameter: { name: string }) => parameter.name === 'state');
    expect(JSON.stringify(state)).toContain('partly-failed');
  });

  test('Elysia\'s own answers carry the security headers too: no route, a refused query, a wrong method', async () => {
    for (const [path, init, status] of [['/no-such-page', {}, 404], ['/api/deliveries?state=bogus', {}, 400], ['/api/failures/retry', {}, 405], ['/api/openapi', { method: 'DELETE' }, 405]] as const) {
      const response = await fetch(`${gateway.adminUrl}${path}`, init);
      const headers = Object.fromEntries(Object.keys(adminHeaders).map((name) => [name, response.headers.get(name)]));
      expect({ path, status: response.status, headers }).toEqual({ path, status, headers: { ...adminHeaders } });
      expect(await response.text()).not.toContain('at ');
    }
  });
});

describe('with an admin token', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ config: `${httpConfig()}admin:\n  token: { env: ADMIN_TOKEN }\n`, env: { HOOK_SECRET: SECRET, ADMIN_TOKEN: TOKEN } });
  });
  afterAll(() => gateway.stop());

  test('the OpenAPI document, like the API, wants the token; a query is judged only once the token is right', async () => {
    expect((await fetch(`${gateway.adminUrl}/api/openapi`)).status).toBe(401);
    expect((await fetch(`${gateway.adminUrl}/api/openapi`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const unauthenticated = await fetch(`${gateway.adminUrl}/api/deliveries?state=bogus`);
    expect({ status: unauthenticated.status, body: await unauthenticated.text() }).toEqual({ status: 401, body: '{"error":"this page needs the admin token (Authorization: Bearer …)"}' });
    expect((await fetch(`${gateway.adminUrl}/api/deliveries?state=bogus`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(400);
  });
});
