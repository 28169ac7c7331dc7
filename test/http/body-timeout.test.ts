/**
 * A body must arrive within server.bodyTimeout (default 10s, measured from the end of the headers); a slow
 * body is answered 408 and the connection closed, so a trickle cannot hold body budget for ever. The
 * deadline runs on the gateway's clock: the test moves it instead of sleeping.
 */
import { afterEach, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { manualClock, settle, type ManualClock } from '../support/manual-clock.ts';
import { until } from '../support/until.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { SECRET, sample, startHttpGateway, waitForSample } from './http-gateway.ts';
import { head, rawConnect } from './raw-http.ts';

let gateway: TestGateway;
afterEach(() => gateway.stop());

async function metrics(): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text();
}

async function startWithClock(server: string[] = []): Promise<ManualClock> {
  const clock = manualClock(Date.now());
  gateway = await startHttpGateway({ clock, server });
  return clock;
}

for (const framing of ['Content-Length', 'chunked'] as const) {
  test(`a ${framing} body that stalls is answered 408 at the deadline, not before, and its bytes are given back`, async () => {
    const clock = await startWithClock();
    const idleTimers = clock.timers();
    const connection = await rawConnect(gateway.port);
    const headers: Record<string, string | number> = framing === 'chunked' ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': 5000 };
    connection.write(head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', ...headers }));
    connection.write(framing === 'chunked' ? '3\r\n{ "\r\n' : '{ "');
    // The read has begun once its deadline is on the clock.
    await until(() => clock.timers() > idleTimers, 'the body deadline to be set');

    await clock.advance(9_999);
    await settle();
    expect(connection.closed()).toBe(false);
    expect(sample(await metrics(), 'fluxgate_http_body_bytes_in_flight')).toBeGreaterThan(0);

    await clock.advance(1);
    const response = await connection.response();
    expect(response.status).toBe(408);
    expect(response.headers.connection).toBe('close');
    await connection.waitClosed();
    await waitForSample(gateway.adminUrl, 'fluxgate_http_body_bytes_in_flight', 0);
    expect(await metrics()).toContain('fluxgate_webhook_requests_total{provider="github",type="github",event="unknown",outcome="timeout"} 1');
    expect(gateway.log.lines.find((line) => line.msg === 'webhook rejected' && line.status === 408)).toMatchObject({ provider: 'github' });
  });
}

test('server.bodyTimeout sets the deadline; a body that arrives in time is not affected by it', async () => {
  const clock = await startWithClock(['bodyTimeout: 2s']);
  expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);
  // The deadline of the finished read was cleared: nothing fires later.
  await clock.advance(60_000);
  expect(gateway.log.lines.filter((line) => line.msg === 'webhook rejected')).toHaveLength(0);

  const idleTimers = clock.timers();
  const connection = await rawConnect(gateway.port);
  connection.write(head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', 'Content-Length': 10 }));
  await until(() => clock.timers() > idleTimers, 'the body deadline to be set');
  await clock.advance(2_000);
  expect((await connection.response()).status).toBe(408);
  await connection.waitClosed();
});
