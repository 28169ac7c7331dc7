/**
 * A body over server.maxBodySize is answered 413 after the rest of it has been read and thrown away, so a
 * sender that writes its whole body before reading (as curl and GitHub do) reads the 413 instead of a reset. The
 * drain is bounded: a quarter of server.maxBodyBytesInFlight in all (counted against that budget), and
 * server.bodyTimeout; past either, the connection is closed at once.
 */
import { afterEach, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { manualClock, settle, type ManualClock } from '../support/manual-clock.ts';
import { until } from '../support/until.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { SECRET, sample, startHttpGateway, waitForSample } from './http-gateway.ts';
import { head, rawConnect, sendWholeThenRead, type RawConnection } from './raw-http.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
let gateway: TestGateway;
const open: RawConnection[] = [];

afterEach(async () => {
  for (const connection of open.splice(0)) connection.destroy();
  await gateway.stop();
});

async function start(server: string[]): Promise<ManualClock> {
  const clock = manualClock(Date.now());
  gateway = await startHttpGateway({ clock, server });
  return clock;
}

async function metrics(): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text();
}

const hookHead = (framing: Record<string, string | number>) => head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', ...framing });

/** A whole request with a body of `size` spaces, sent with a Content-Length or as one chunk. */
function request(size: number, framing: 'Content-Length' | 'chunked'): Uint8Array {
  const body = Buffer.alloc(size, 0x20);
  if (framing === 'Content-Length') return Buffer.concat([Buffer.from(hookHead({ 'Content-Length': size })), body]);
  return Buffer.concat([Buffer.from(hookHead({ 'Transfer-Encoding': 'chunked' })), Buffer.from(`${size.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
}

for (const framing of ['Content-Length', 'chunked'] as const) {
  test(`a ${framing} body of 12 MiB to a 64 KiB limit, written whole before reading, gets the 413, not a reset`, async () => {
    // 12 MiB is more than the kernel's socket buffers take in while nobody reads; the drain bound is 16 MiB.
    await start(['maxBodySize: 64KiB', 'maxBodyBytesInFlight: 64MiB']);
    const sent = await sendWholeThenRead(gateway.port, request(12 * MiB, framing));
    expect(sent.written).toBe(true);
    expect(sent.response?.status).toBe(413);
    expect(JSON.parse(sent.response!.body)).toEqual({ error: 'body larger than 65536 bytes' });
    expect(sent.response!.headers.connection).toBe('close');
    await waitForSample(gateway.adminUrl, 'fluxgate_http_body_bytes_in_flight', 0);
    expect(await metrics()).toContain('fluxgate_webhook_requests_total{provider="github",type="github",event="unknown",outcome="too_large"} 1');
  });
}

test('a chunked body is drained, counted in the budget, up to the bound; one byte more and the connection is closed', async () => {
  await start(['maxBodySize: 64KiB', 'maxBodyBytesInFlight: 4MiB']);
  const connection = await rawConnect(gateway.port);
  open.push(connection);
  connection.write(hookHead({ 'Transfer-Encoding': 'chunked' }));
  const chunk = (size: number) => Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), Buffer.alloc(size, 0x20), Buffer.from('\r\n')]);
  // Up to the bound (1 MiB, a quarter of the budget) and no last chunk: the drain reads on and waits for more.
  for (let sent = 0; sent < 4; sent++) await connection.send(chunk(256 * KiB - (sent === 3 ? 1 : 0)));
  await waitForSample(gateway.adminUrl, 'fluxgate_http_body_bytes_in_flight', MiB - 1);
  expect(connection.closed()).toBe(false);
  // The clock stands still: only the bound can end this read.
  await connection.send(chunk(2));
  expect((await connection.response()).status).toBe(413);
  await connection.waitClosed('the drain to stop at its bound and the connection to close');
  await waitForSample(gateway.adminUrl, 'fluxgate_http_body_bytes_in_flight', 0);
  expect(gateway.log.lines.find((line) => line.msg === 'webhook rejected')).toMatchObject({ provider: 'github', status: 413 });
});

test('a declared length past the drain bound is answered 413 at once, nothing read', async () => {
  await start(['maxBodySize: 64KiB', 'maxBodyBytesInFlight: 4MiB']);
  const connection = await rawConnect(gateway.port);
  open.push(connection);
  connection.write(hookHead({ 'Content-Length': MiB + 1 }));
  expect((await connection.response()).status).toBe(413);
  await connection.waitClosed();
  expect(sample(await metrics(), 'fluxgate_http_body_bytes_in_flight')).toBe(0);
});

test('a drain holds its declared length in the body budget until the deadline: a stalled one is answered 413 then, and what does not fit is not drained', async () => {
  const clock = await start(['maxBodySize: 64KiB', 'maxBodyBytesInFlight: 1MiB', 'bodyTimeout: 5s']);
  const idleTimers = clock.timers();
  // Four senders declare 256 KiB (the drain bound: a quarter of 1 MiB), send a little and stall.
  const stalled: RawConnection[] = [];
  for (let index = 0; index < 4; index++) {
    const connection = await rawConnect(gateway.port);
    open.push(connection);
    stalled.push(connection);
    connection.write(hookHead({ 'Content-Length': 256 * KiB }));
    connection.write(Buffer.alloc(10 * KiB, 0x20));
  }
  await until(() => clock.timers() >= idleTimers + 4, 'the four drains to start');
  await waitForSample(gateway.adminUrl, 'fluxgate_http_body_bytes_in_flight', 1024 * KiB);

  // The budget is full: a fifth body over the limit is answered at once, without a drain; a small delivery gets 503.
  const fifth = await rawConnect(gateway.port);
  open.push(fifth);
  fifth.write(hookHead({ 'Content-Length': 100 * KiB }));
  expect((await fifth.response()).status).toBe(413);
  await fifth.waitClosed();
  expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(503);

  // The stalled drains wait for their bodies until bodyTimeout, and not a moment longer.
  await clock.advance(4_999);
  await settle();
  expect(stalled.map((connection) => connection.closed())).toEqual([false, false, false, false]);
  await clock.advance(1);
  for (const connection of stalled) {
    const response = await connection.response();
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    await connection.waitClosed();
  }
  await waitForSample(gateway.adminUrl, 'fluxgate_http_body_bytes_in_flight', 0);
  expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);
});
