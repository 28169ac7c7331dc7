/**
 * GitHub deliveries over real HTTP, verified by @octokit/webhooks-methods: a body that is not UTF-8 is still
 * checked over the exact bytes sent, and an empty body is a 401 like any signature that does not match.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import type { TestGateway } from '../support/gateway.ts';
import { githubPushWith } from '../support/webhooks.ts';
import { SECRET, startHttpGateway } from './http-gateway.ts';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startHttpGateway();
});
afterAll(() => gateway.stop());

const MARK = 'MARK-0f3c';

/** A signed push whose head commit message holds `bytes` where MARK was; signed over `signedBytes` (default: the same). */
function pushWithBytes(bytes: number[], signedBytes = bytes): { body: Uint8Array; headers: Record<string, string> } {
  const hook = githubPushWith(SECRET, (payload) => (payload.head_commit.message = MARK));
  const withBytes = (replacement: number[]) => {
    const text = new TextDecoder().decode(hook.body);
    const at = text.indexOf(MARK);
    const encoder = new TextEncoder();
    return new Uint8Array([...encoder.encode(text.slice(0, at)), ...replacement, ...encoder.encode(text.slice(at + MARK.length))]);
  };
  const body = withBytes(bytes);
  const signature = `sha256=${createHmac('sha256', SECRET).update(withBytes(signedBytes)).digest('hex')}`;
  const { 'x-hub-signature': _sha1, ...headers } = hook.headers;
  return { body, headers: { ...headers, 'x-hub-signature-256': signature } };
}

const send = (delivery: { body: Uint8Array; headers: Record<string, string> }) => fetch(gateway.hook('github'), { method: 'POST', headers: delivery.headers, body: delivery.body });

test('a push whose body is not valid UTF-8 (a Latin-1 é) is verified over its exact bytes and accepted', async () => {
  const response = await send(pushWithBytes([0x63, 0x61, 0x66, 0xe9]));
  expect(response.status).toBe(202);
});

test('a byte swapped for one that decodes to the same text does not keep the signature', async () => {
  // Signed: U+FFFD itself (EF BF BD). Sent: 0xFF, which a lenient decoder also reads as U+FFFD.
  const response = await send(pushWithBytes([0xff], [0xef, 0xbf, 0xbd]));
  expect({ status: response.status, body: await response.json() }).toEqual({ status: 401, body: { error: 'signature does not match' } });
});

test('an empty body is a 401, whatever its signature', async () => {
  const signature = `sha256=${createHmac('sha256', SECRET).update('').digest('hex')}`;
  const response = await fetch(gateway.hook('github'), { method: 'POST', headers: { 'x-github-event': 'push', 'x-hub-signature-256': signature } });
  expect({ status: response.status, body: await response.json() }).toEqual({ status: 401, body: { error: 'signature does not match' } });
});
