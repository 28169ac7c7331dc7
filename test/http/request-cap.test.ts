/**
 * Requests that wait (hooks reading a body, /readyz) are capped by server.maxConcurrentRequests: beyond it a
 * request is answered 503 + Retry-After at once. Pages answered on the spot (/healthz, /metrics) are never
 * refused, so probes and scrapes still work while the cap holds.
 */
import { afterEach, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { SECRET, startHttpGateway, waitForSample } from './http-gateway.ts';
import { head, rawConnect, type RawConnection } from './raw-http.ts';

let gateway: TestGateway;
const open: RawConnection[] = [];
afterEach(async () => {
  for (const connection of open.splice(0)) connection.destroy();
  await gateway.stop();
});

async function metrics(): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text();
}

function waitForInFlight(count: number): Promise<void> {
  return waitForSample(gateway.adminUrl, 'fluxgate_http_requests_in_flight', count);
}

async function holdHook(): Promise<RawConnection> {
  const connection = await rawConnect(gateway.port);
  open.push(connection);
  connection.write(head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', 'Content-Length': 1000 }));
  connection.write('{"ref": ');
  return connection;
}

test('beyond maxConcurrentRequests a hook gets 503 + Retry-After at once; probes and metrics still answer', async () => {
  gateway = await startHttpGateway({ server: ['maxConcurrentRequests: 2'] });
  await holdHook();
  await holdHook();
  await waitForInFlight(2);

  const refused = await post(gateway.hook('github'), githubWebhook(SECRET));
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  expect(refused.headers.get('connection')).toBe('close');
  expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(503);
  expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  const text = await metrics();
  expect(text).toContain('fluxgate_webhook_requests_total{provider="github",type="github",event="unknown",outcome="unavailable"} 1');
  expect(gateway.log.lines.find((line) => line.msg === 'webhook rejected')).toMatchObject({ status: 503, reason: 'too many requests in flight' });

  // One held request goes away: there is room again.
  open.shift()!.destroy();
  await waitForInFlight(1);
  expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);
  expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
});
