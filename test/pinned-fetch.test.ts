/**
 * The one transport of the clients that carry a credential, over real HTTP on loopback: another origin is refused
 * before anything is sent; a redirect of any kind is not followed and is named without userinfo, query or
 * fragment; other answers (a 304, a 404) come back as they are.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { OutboundRefusal, pinnedFetch, shownUrl } from '../src/core/pinned-fetch.ts';
import { startElsewhere, type Elsewhere } from './support/elsewhere.ts';

let elsewhere: Elsewhere;
let server: ReturnType<typeof Bun.serve>;
let origin: string;
const seen: string[] = [];
beforeAll(() => {
  elsewhere = startElsewhere();
  // GET /answer?status=S&location=L answers S with that Location.
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      seen.push(`${request.method} ${url.pathname}`);
      const location = url.searchParams.get('location');
      return new Response('moved', { status: Number(url.searchParams.get('status') ?? 200), headers: location === null ? {} : { Location: location } });
    },
  });
  origin = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop(true);
  await elsewhere.stop();
});

async function refusal(promise: Promise<unknown>): Promise<OutboundRefusal> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboundRefusal);
  return error as OutboundRefusal;
}

describe('pinnedFetch', () => {
  test('a request to another origin is refused before it is sent', async () => {
    const send = pinnedFetch(`${origin}/api/v4`);
    const error = await refusal(send(`${elsewhere.origin}/collect?token=x`, { headers: { 'PRIVATE-TOKEN': 't' } }));
    expect(error.message).toBe(`GET /collect was not sent to ${elsewhere.origin}: this client sends its credentials only to ${origin}`);
    expect(error.status).toBeUndefined();
    expect(elsewhere.received).toEqual([]);
    // Same host, another port or scheme: another origin.
    await refusal(send(`http://127.0.0.1:${Number(server.port) + 1}/x`));
    await refusal(send(`https://127.0.0.1:${server.port}/x`));
  });

  test.each([301, 302, 303, 307, 308])('%d is not followed, even on the same origin', async (status) => {
    const send = pinnedFetch(origin);
    const absolute = await refusal(send(`${origin}/answer?status=${status}&location=${encodeURIComponent(elsewhere.location)}`, { method: 'POST', body: '{"secret":"s"}' }));
    expect(absolute).toMatchObject({ status, location: elsewhere.shown, request: 'POST /answer' });
    expect(absolute.message).toBe(`POST /answer answered ${status}, a redirect to ${elsewhere.shown}: not followed`);
    const relative = await refusal(send(new Request(`${origin}/answer?status=${status}&location=${encodeURIComponent('/moved/here?token=t#f')}`)));
    expect(relative.message).toBe(`GET /answer answered ${status}, a redirect to ${origin}/moved/here: not followed`);
    expect(elsewhere.received).toEqual([]);
    expect(seen.filter((line) => line.startsWith('GET /moved'))).toEqual([]);
  });

  test('a redirect without a Location, or with one that is not an http(s) URL, is refused all the same', async () => {
    const send = pinnedFetch(origin);
    expect((await refusal(send(`${origin}/answer?status=302`))).message).toBe('GET /answer answered 302, a redirect without a Location: not followed');
    expect((await refusal(send(`${origin}/answer?status=302&location=${encodeURIComponent('javascript:alert(1)')}`))).message).toBe('GET /answer answered 302, a redirect to a javascript: URL: not followed');
    expect((await refusal(send(`${origin}/answer?status=307&location=${encodeURIComponent('http://[bad')}`))).message).toBe('GET /answer answered 307, a redirect to an address that is not a URL: not followed');
  });

  test('answers that are not redirects come back as they are', async () => {
    const send = pinnedFetch(origin);
    expect((await send(`${origin}/answer?status=304`)).status).toBe(304);
    expect((await send(`${origin}/answer?status=404`)).status).toBe(404);
    expect(await (await send(`${origin}/answer?status=200`)).text()).toBe('moved');
  });

  test('only an http(s) origin can be pinned', () => {
    expect(() => pinnedFetch('file:///etc/passwd')).toThrow('not an http(s) URL: a file: URL');
    expect(() => pinnedFetch('not a url')).toThrow();
  });

  test('shownUrl keeps scheme, host, port and path, and bounds the length', () => {
    expect(shownUrl(new URL('https://user:pw@evil.example:8443/a/b?token=x#y'))).toBe('https://evil.example:8443/a/b');
    expect(shownUrl(new URL(`https://h.example/${'a'.repeat(500)}`))).toHaveLength(201);
  });
});
