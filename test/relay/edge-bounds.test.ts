/**
 * The edge's bounds and answers, over real HTTP on loopback (an in-process gateway in dry-run): streams per
 * token, acknowledgements that are not one, events cut to relay.maxEventSize, a reload that narrows a filter or
 * removes a subscriber, and what a stream carries (signed frames of the normalized event, never the raw body).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { relayKeys, verifyEvent } from '../../src/relay/index.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { manualClock } from '../support/manual-clock.ts';
import { githubPushWith, githubWebhook, post } from '../support/webhooks.ts';

const SECRET = 'edge-bounds-github-secret-2c7d';
const ALPHA = 'alpha-edge-bounds-token-81f0';
const BETA = 'beta-edge-bounds-token-4a6e';

function config(relay: string, state = '{ store: memory }'): string {
  return `server: { shutdownTimeout: 1s }\nkubernetes: { mode: dry-run }\nstate: ${state}\nproviders:\n  - { name: github, type: github, secret: { value: ${SECRET} } }\nrelay:\n${relay}`;
}
const twoSubscribers = `  maxConnectionsPerSubscriber: 1\n  maxEventSize: 2KiB\n  subscribers:\n    - { name: alpha, token: { value: ${ALPHA} } }\n    - { name: beta, token: { value: ${BETA} }, repositories: [your-org/*] }\n`;

const bearer = (token: string) => ({ authorization: `Bearer ${relayKeys(token).credential}` });

/** A stream's frames as they come; `next(type)` waits for the next frame of that type. */
async function openStream(gateway: TestGateway, token: string) {
  const aborter = new AbortController();
  const response = await fetch(`${gateway.url}/relay/v1/events`, { headers: { accept: 'text/event-stream', ...bearer(token) }, signal: aborter.signal });
  const frames: EventSourceMessage[] = [];
  const waiting: (() => void)[] = [];
  const parser = createParser({ onEvent: (message) => (frames.push(message), waiting.splice(0).forEach((wake) => wake())) });
  const ended = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // closed by the test
    }
    waiting.splice(0).forEach((wake) => wake());
  })();
  let read = 0;
  return {
    response,
    ended,
    async next(type: string): Promise<EventSourceMessage> {
      for (;;) {
        while (read < frames.length) {
          const frame = frames[read++]!;
          if (frame.event === type) return frame;
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
    close: () => aborter.abort(),
  };
}

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

describe('the edge', () => {
  test('a stream carries signed frames of the normalized event, never the raw body; the push is accepted with no target', async () => {
    gateway = await startTestGateway({ config: config(twoSubscribers) });
    const stream = await openStream(gateway, ALPHA);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toStartWith('text/event-stream');
    const hello = await stream.next('hello');
    expect(JSON.parse(hello.data.split('\n')[1]!)).toMatchObject({ subscriber: 'alpha' });
    const response = await post(gateway.hook('github'), githubWebhook(SECRET, { deliveryId: 'relay-delivery-1' }));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ delivery: 'relay-delivery-1', targets: 0, relayed: 2 });
    const event = await stream.next('event');
    const [signature, json] = event.data.split('\n') as [string, string];
    expect(verifyEvent(relayKeys(ALPHA).signing, event.id!, 'event', json, signature)).toBe(true);
    expect(verifyEvent(relayKeys(BETA).signing, event.id!, 'event', json, signature)).toBe(false);
    const relayed = JSON.parse(json);
    expect(relayed).toMatchObject({ provider: 'github', type: 'github', deliveryId: 'relay-delivery-1', event: 'push', repositories: expect.arrayContaining(['https://github.com/your-org/your-repo']), ref: 'refs/heads/main' });
    // Never the body: the fixture's pusher, sender and installation are not carried.
    expect(json).not.toContain('pusher');
    expect(json).not.toContain('sender');
    expect(json).not.toContain(SECRET);
    stream.close();
  });

  test('one stream per token at most (maxConnectionsPerSubscriber): the next gets 429 with Retry-After, another token is served', async () => {
    gateway = await startTestGateway({ config: config(twoSubscribers) });
    const first = await openStream(gateway, ALPHA);
    await first.next('hello');
    const second = await fetch(`${gateway.url}/relay/v1/events`, { headers: bearer(ALPHA) });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('5');
    expect(((await second.json()) as { error: string }).error).toContain('relay.maxConnectionsPerSubscriber');
    const other = await openStream(gateway, BETA);
    expect(other.response.status).toBe(200);
    first.close();
    other.close();
  });

  test('acknowledgements that are not one: 400, 413, 409, 405; a good one 200', async () => {
    gateway = await startTestGateway({ config: config(twoSubscribers) });
    const stream = await openStream(gateway, ALPHA);
    const hello = JSON.parse((await stream.next('hello')).data.split('\n')[1]!) as { stream: string };
    expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);
    const event = await stream.next('event');
    const ack = (body: string | Uint8Array, method = 'POST') => fetch(`${gateway!.url}/relay/v1/ack`, { method, headers: { ...bearer(ALPHA), 'content-type': 'application/json' }, ...(method === 'POST' ? { body } : {}) });
    expect((await ack('not json')).status).toBe(400);
    expect((await ack('{"id":"../../etc"}')).status).toBe(400);
    expect((await ack(new Uint8Array(2 * 1024 * 1024))).status).toBe(413);
    expect((await ack(`{"id":"${hello.stream === 'zz' ? 'zy' : 'zz'}-1"}`)).status).toBe(409);
    expect((await ack('', 'PUT')).status).toBe(405);
    const taken = await ack(JSON.stringify({ id: event.id }));
    expect(taken.status).toBe(200);
    expect(await taken.json()).toEqual({ acknowledged: event.id });
    stream.close();
  });

  test('an event larger than maxEventSize loses its changed paths, and keeps what matching needs', async () => {
    gateway = await startTestGateway({ config: config(twoSubscribers) });
    const stream = await openStream(gateway, ALPHA);
    const push = githubPushWith(SECRET, (payload) => {
      payload.ref = 'refs/heads/main';
      payload.commits[0].added = Array.from({ length: 200 }, (_, i) => `deploy/file-${i}.yaml`);
    });
    expect((await post(gateway.hook('github'), push)).status).toBe(202);
    const json = (await stream.next('event')).data.split('\n')[1]!;
    expect(json.length).toBeLessThanOrEqual(2 * 1024 + 200);
    const relayed = JSON.parse(json);
    expect(relayed.changedPaths).toBeUndefined();
    expect(relayed).toMatchObject({ event: 'push', ref: 'refs/heads/main' });
    stream.close();
  });

  test('a reload that removes a subscriber ends its stream and refuses its token; a narrowed filter keeps nothing more for it', async () => {
    gateway = await startTestGateway({ config: config(twoSubscribers), watchConfig: false });
    const alpha = await openStream(gateway, ALPHA);
    await alpha.next('hello');
    // Narrowed: beta no longer wants your-org/*; removed: alpha.
    writeFileSync(gateway.configPath, config(`  subscribers:\n    - { name: beta, token: { value: ${BETA} }, repositories: [other-org/*] }\n`));
    expect((await gateway.reload('test')).last?.outcome).toBe('success');
    await alpha.ended;
    expect((await fetch(`${gateway.url}/relay/v1/events`, { headers: bearer(ALPHA) })).status).toBe(401);
    const response = await post(gateway.hook('github'), githubWebhook(SECRET));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { relayed?: number }).relayed).toBeUndefined();
  });

  test('events older than relay.retention.maxAge are dropped, and an agent that had not taken them is told so with a gap', async () => {
    const clock = manualClock();
    gateway = await startTestGateway({ config: config(`  retention: { maxAge: 1h }\n  subscribers:\n    - { name: alpha, token: { value: ${ALPHA} } }\n`, '{ store: sqlite, path: state }'), clock });
    expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);
    const kept = async () => Number(/^fluxgate_relay_store_events (\d+)$/m.exec(await (await gateway!.handleAdmin(new Request('http://admin/metrics'))).text())?.[1]);
    expect(await kept()).toBe(1);
    // The store's maintenance runs every minute and writes to disk between timers: advanced until it has run.
    await clock.advance(2 * 3_600_000);
    for (let round = 0; round < 50 && (await kept()) !== 0; round += 1) await clock.advance(60_000);
    expect(await kept()).toBe(0);
    const stream = await openStream(gateway, ALPHA);
    await stream.next('hello');
    const gap = await stream.next('gap');
    expect(JSON.parse(gap.data.split('\n')[1]!).reason).toContain('no longer kept (relay.retention)');
    stream.close();
  });
});
