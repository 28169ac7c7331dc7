/**
 * Every 413 is fluxgate's own (logged and counted), however large the declared length, and the default
 * body limit (server.maxBodySize, 4 MiB) takes the largest push GitHub sends with room to spare.
 */
import { afterEach, expect, test } from 'bun:test';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fixturePath } from '../support/fixture-path.ts';
import type { TestGateway } from '../support/gateway.ts';
import { SECRET, startHttpGateway } from './http-gateway.ts';
import { head, rawConnect } from './raw-http.ts';

let gateway: TestGateway;
afterEach(() => gateway.stop());

async function metrics(): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text();
}

test('Content-Length: 10 GiB on a hook is answered 413 by fluxgate, counted and logged, without waiting for the body', async () => {
  gateway = await startHttpGateway();
  const connection = await rawConnect(gateway.port);
  connection.write(head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', 'Content-Length': 10737418240 }));
  const response = await connection.response();
  expect(response.status).toBe(413);
  expect(response.headers['content-type']).toBe('application/json');
  expect(JSON.parse(response.body)).toEqual({ error: 'body larger than 4194304 bytes' });
  await connection.waitClosed();
  expect(await metrics()).toContain('fluxgate_webhook_requests_total{provider="github",type="github",event="unknown",outcome="too_large"} 1');
  expect(gateway.log.lines.find((line) => line.msg === 'webhook rejected')).toMatchObject({ provider: 'github', status: 413 });
});

/**
 * GitHub lists at most 2048 commits in a push. This builds one from the commit entries of the recorded push
 * fixture, serialised compactly as GitHub sends JSON: about 1.3 MB.
 */
function largestPush(): Uint8Array {
  const recorded = JSON.parse(readFileSync(fixturePath('github/push-new-branch.json'), 'utf8'));
  const entries = recorded.commits as { id: string }[];
  const commits = Array.from({ length: 2048 }, (_, index) => ({ ...entries[index % entries.length]!, id: createHmac('sha1', 'id').update(String(index)).digest('hex') }));
  return new TextEncoder().encode(JSON.stringify({ ...recorded, commits, head_commit: commits.at(-1) }));
}

function signed(body: Uint8Array): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': randomUUID(),
    'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
  };
}

test('with the default limit, a 2048-commit push is accepted and a 5 MiB body is refused', async () => {
  gateway = await startHttpGateway();
  const push = largestPush();
  expect(push.byteLength).toBeGreaterThan(1_000_000);
  expect(push.byteLength).toBeLessThan(4 * 1024 * 1024 / 2);
  const accepted = await fetch(gateway.hook('github'), { method: 'POST', headers: signed(push), body: push });
  expect(accepted.status).toBe(202);

  const padded = new Uint8Array(5 * 1024 * 1024).fill(0x20);
  padded.set(push);
  const refused = await fetch(gateway.hook('github'), { method: 'POST', headers: signed(padded), body: padded });
  expect(refused.status).toBe(413);
});
