/**
 * The baselines for bench/ingest: a bare Bun.serve that reads the body, checks the GitHub HMAC in constant
 * time and answers 202; with `--parse` it also decodes and JSON-parses the body, the least any gateway that
 * routes on the payload must do. Everything fluxgate does beyond these is its overhead.
 * usage: bun bench/bare-server.ts PORT SECRET [--parse]
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const [port, secret] = [Number(process.argv[2] ?? 0), process.argv[3] ?? 'secret'];
const parse = process.argv.includes('--parse');
const decoder = new TextDecoder();
const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  reusePort: false,
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    const given = Buffer.from(request.headers.get('x-hub-signature-256') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return new Response('{"error":"bad signature"}', { status: 401 });
    if (parse && typeof (JSON.parse(decoder.decode(body)) as { ref?: unknown }).ref !== 'string') return new Response('{"error":"no ref"}', { status: 400 });
    return new Response('{"accepted":true}', { status: 202, headers: { 'content-type': 'application/json' } });
  },
});
process.stdout.write(`listening ${server.port}\n`);
