/** Every 413 is fluxgate's own (logged and counted), however large the declared length. */
import { afterEach, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { startHttpGateway } from './http-gateway.ts';
import { head, rawConnect } from './raw-http.ts';

let gateway: TestGateway;
afterEach(() => gateway.stop());

async function metrics(): Promise<string> {
  return (await fetch(`${gateway.url}/metrics`)).text();
}

test('Content-Length: 10 GiB on a hook is answered 413 by fluxgate, counted and logged, without waiting for the body', async () => {
  gateway = await startHttpGateway();
  const connection = await rawConnect(gateway.port);
  connection.write(head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', 'Content-Length': 10737418240 }));
  const response = await connection.response();
  expect(response.status).toBe(413);
  expect(response.headers['content-type']).toBe('application/json');
  expect(JSON.parse(response.body)).toEqual({ error: 'body larger than 26214400 bytes' });
  await connection.waitClosed();
  expect(await metrics()).toContain('fluxgate_webhook_requests_total{provider="github",type="github",event="unknown",outcome="too_large"} 1');
  expect(gateway.log.lines.find((line) => line.msg === 'webhook rejected')).toMatchObject({ provider: 'github', status: 413 });
});
