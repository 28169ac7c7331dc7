/**
 * Bytes of request bodies being read are bounded in total (server.maxBodyBytesInFlight): a declared length is
 * reserved before reading, a chunked body is counted as it arrives, a request that does not fit is answered
 * 503 + Retry-After, and every way a read ends gives its bytes back.
 */
import { afterEach, expect, test } from 'bun:test';
import { createHmac, randomUUID } from 'node:crypto';
import type { TestGateway } from '../support/gateway.ts';
import { githubWebhook, post, type OutgoingWebhook } from '../support/webhooks.ts';
import { SECRET, sample, startHttpGateway, waitForSample } from './http-gateway.ts';
import { head, rawConnect, type RawConnection } from './raw-http.ts';

const KiB = 1024;
let gateway: TestGateway;
const open: RawConnection[] = [];

afterEach(async () => {
  for (const connection of open.splice(0)) connection.destroy();
  await gateway.stop();
});

function start(): Promise<TestGateway> {
  return startHttpGateway({ server: ['maxBodySize: 1MiB', 'maxBodyBytesInFlight: 1536KiB'] }).then((started) => (gateway = started));
}

async function metrics(): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text();
}

async function bytesInFlight(): Promise<number> {
  return sample(await metrics(), 'fluxgate_http_body_bytes_in_flight') ?? NaN;
}

/** Holds a hook request open: headers declaring `declared` bytes (or chunked), then `sent` bytes, then nothing. */
async function hold(options: { declared?: number; sent: number }): Promise<RawConnection> {
  const connection = await rawConnect(gateway.port);
  open.push(connection);
  const framing: Record<string, string | number> = options.declared === undefined ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': options.declared };
  connection.write(head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', ...framing }));
  const bytes = new Uint8Array(options.sent).fill(0x20);
  connection.write(options.declared === undefined ? Buffer.concat([Buffer.from(`${options.sent.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) : bytes);
  return connection;
}

/** A signed push padded with trailing spaces (still valid JSON) to `size` bytes. */
function paddedPush(size: number): OutgoingWebhook {
  const hook = githubWebhook(SECRET, { deliveryId: randomUUID() });
  const body = new Uint8Array(size).fill(0x20);
  body.set(hook.body);
  return { body, headers: { ...hook.headers, 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` } };
}

function waitForGauge(bytes: number): Promise<void> {
  return waitForSample(gateway.adminUrl, 'fluxgate_http_body_bytes_in_flight', bytes);
}

test('a declared length that does not fit beside one held body is refused 503, counted, and not remembered', async () => {
  await start();
  await hold({ declared: 1024 * KiB, sent: 100 * KiB });
  await waitForGauge(1024 * KiB);

  const big = paddedPush(768 * KiB);
  const refused = await fetch(gateway.hook('github'), { method: 'POST', headers: big.headers, body: big.body });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  expect(refused.headers.get('connection')).toBe('close');
  expect(gateway.log.lines.find((line) => line.msg === 'webhook rejected' && line.status === 503)).toMatchObject({ provider: 'github' });
  expect(await metrics()).toContain('fluxgate_webhook_requests_total{provider="github",type="github",event="unknown",outcome="unavailable"} 1');

  // A small delivery still fits in what is left.
  expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);

  // Once the held request goes away its reservation is returned, and the refused delivery is accepted.
  open.splice(0).forEach((connection) => connection.destroy());
  await waitForGauge(0);
  expect((await fetch(gateway.hook('github'), { method: 'POST', headers: big.headers, body: big.body })).status).toBe(202);
  await waitForGauge(0);
});

test('a chunked body is counted as it arrives: a second one is cut off with 503 when the total passes the budget', async () => {
  await start();
  await hold({ sent: 1000 * KiB });
  await waitForGauge(1000 * KiB);
  const second = await hold({ sent: 600 * KiB });
  const response = await second.response();
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  expect(response.headers.connection).toBe('close');
  await second.waitClosed();
  expect(await bytesInFlight()).toBe(1000 * KiB);
  expect(await metrics()).toContain('outcome="unavailable"} 1');
});

test('every way a read ends gives its bytes back: success, 413 by length, 413 while streaming, client abort', async () => {
  await start();
  expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);
  const tooLong = await fetch(gateway.hook('github'), { method: 'POST', headers: { 'x-github-event': 'push' }, body: new Uint8Array(2 * 1024 * KiB) });
  expect(tooLong.status).toBe(413);
  const streaming = await hold({ sent: 1100 * KiB });
  expect((await streaming.response()).status).toBe(413);
  const aborted = await hold({ declared: 900 * KiB, sent: 10 * KiB });
  await waitForGauge(900 * KiB);
  aborted.destroy();
  await waitForGauge(0);
  // The whole budget is free again: a body of the maximum size is read.
  const full = paddedPush(1024 * KiB);
  expect((await fetch(gateway.hook('github'), { method: 'POST', headers: full.headers, body: full.body })).status).toBe(202);
  expect(await bytesInFlight()).toBe(0);
});

