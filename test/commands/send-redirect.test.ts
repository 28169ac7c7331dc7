/**
 * `fluxgate send` posts the signed delivery to the URL given and nowhere else: a URL that answers a redirect to
 * another host (GitLab's X-Gitlab-Token is the secret itself, which fetch would carry along) fails naming where it
 * pointed, exit 1, and the other host receives nothing.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { builtinProviders } from '../../plugins/index.ts';
import { runSend, type SendOptions } from '../../src/commands/send.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { startElsewhere, type Elsewhere } from '../support/elsewhere.ts';

const SECRET = 'send-redirect-secret-5d1e';
const deps = { catalog: builtinCatalog(builtinProviders, providerKit) };

let elsewhere: Elsewhere;
let redirecting: ReturnType<typeof Bun.serve>;
const received: string[] = [];
beforeEach(() => {
  elsewhere = startElsewhere();
  received.length = 0;
  redirecting = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => (received.push(request.method), elsewhere.redirect(Number(new URL(request.url).searchParams.get('status')))),
  });
});
afterEach(async () => {
  await redirecting.stop(true);
  await elsewhere.stop();
});

async function send(options: Omit<SendOptions, 'url'>, status: number): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSend({ ...options, url: `http://127.0.0.1:${redirecting.port}/hook/ci?status=${status}` }, deps, (line) => out.push(line), (line) => err.push(line));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('fluxgate send follows no redirect', () => {
  test.each([
    ['gitlab', 307, []],
    ['gitlab', 302, []],
    ['acr', 308, ['header=X-Acr-Token']],
    ['github', 301, []],
  ] as const)('%s answered %d', async (providerType, status, option) => {
    const result = await send({ providerType, secret: SECRET, option: [...option] }, status);
    expect(received).toEqual(['POST']);
    expect(elsewhere.received).toEqual([]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `http://127.0.0.1:${redirecting.port}/hook/ci?status=${status}: POST /hook/ci answered ${status}, a redirect to ${elsewhere.shown}: not followed (send posts the signed delivery only to the URL given: give the address the gateway answers on)`,
    );
    expect(result.err).not.toContain(SECRET);
  });
});
