/** Routes that read no body refuse one at once, without reading it, and close the connection. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { TestGateway } from '../support/gateway.ts';
import { startHttpGateway } from './http-gateway.ts';
import { head, rawConnect } from './raw-http.ts';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startHttpGateway();
});
afterAll(() => gateway.stop());

/** A 1 GiB stream that counts what the sender was asked to produce. */
function gibibyteStream(): { stream: ReadableStream<Uint8Array>; produced(): number } {
  let produced = 0;
  const chunk = new Uint8Array(64 * 1024);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced >= 1024 ** 3) return controller.close();
      produced += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, produced: () => produced };
}

for (const path of ['/healthz', '/metrics', '/readyz', '/', '/api/deliveries', '/no-such-page']) {
  test(`1 GiB chunked to ${path} is refused with 413 long before the sender is done`, async () => {
    const upload = gibibyteStream();
    const response = await fetch(`${gateway.url}${path}`, { method: 'POST', body: upload.stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    // What was produced is what the client buffered before it saw the answer, not what the server read.
    expect(upload.produced()).toBeLessThan(16 * 1024 * 1024);
  });
}

test('a GET declaring a 1 GiB body gets 413 and the connection closes without the body being sent', async () => {
  const connection = await rawConnect(gateway.port);
  connection.write(head('GET /healthz HTTP/1.1', { Host: 'gw', 'Content-Length': 1024 ** 3 }));
  const response = await connection.response();
  expect(response.status).toBe(413);
  await connection.waitClosed();
});

test('a body on a hook that cannot take it (unknown provider, wrong method) is not read either', async () => {
  for (const line of ['POST /hook/nobody HTTP/1.1', 'PUT /hook/github HTTP/1.1']) {
    const connection = await rawConnect(gateway.port);
    connection.write(head(line, { Host: 'gw', 'Transfer-Encoding': 'chunked' }));
    connection.write('4\r\n{}{}\r\n');
    const response = await connection.response();
    expect(response.status).toBeOneOf([404, 405]);
    expect(response.headers.connection).toBe('close');
    await connection.waitClosed();
  }
});

test('a GET without a body keeps the connection open for the next request', async () => {
  const connection = await rawConnect(gateway.port);
  connection.write(head('GET /healthz HTTP/1.1', { Host: 'gw' }));
  const response = await connection.response();
  expect(response.status).toBe(200);
  expect(response.headers.connection).not.toBe('close');
  expect(connection.closed()).toBe(false);
  connection.destroy();
});
