/** Waiting out rate limits as each host's headers ask, and sending only to the configured API. */
import { describe, expect, test } from 'bun:test';
import { hostFetch, rateLimitWait, type RateLimitWait } from '../../src/register/host-fetch.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const answer = (status: number, headers: Record<string, string> = {}) => new Response('{}', { status, headers });

describe('rateLimitWait', () => {
  test.each([
    ['429 Retry-After in seconds', answer(429, { 'Retry-After': '30' }), { waitMs: 30_000, reason: 'Retry-After: 30' }],
    ['429 Retry-After as a date', answer(429, { 'Retry-After': new Date(NOW + 90_000).toUTCString() }), { waitMs: 90_000 }],
    ['GitHub primary limit: 403, remaining 0, reset epoch', answer(403, { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(NOW / 1000 + 60) }), { waitMs: 61_000, reason: `x-ratelimit-reset: ${NOW / 1000 + 60}` }],
    ['GitHub secondary limit: 403 with Retry-After', answer(403, { 'Retry-After': '60' }), { waitMs: 60_000 }],
    ['GitLab 429 with only RateLimit-Reset', answer(429, { 'RateLimit-Reset': String(NOW / 1000 + 5) }), { waitMs: 6_000 }],
    ['429 without any header: backoff', answer(429), { waitMs: 1_000, reason: '429 without Retry-After' }],
  ] as const)('%s', (_, response, expected) => {
    expect(rateLimitWait(response, NOW, 1)).toMatchObject(expected);
  });

  test.each([
    ['a 403 without rate-limit headers is a permission problem', answer(403)],
    ['a 404', answer(404)],
    ['a 200', answer(200, { 'Retry-After': '5' })],
  ] as const)('%s: no wait', (_, response) => {
    expect(rateLimitWait(response, NOW, 1)).toBeUndefined();
  });
});

describe('hostFetch', () => {
  test('retries at most maxAttempts times, announcing each wait, then returns the last answer', async () => {
    const waits: RateLimitWait[] = [];
    const sleeps: number[] = [];
    let calls = 0;
    const send = hostFetch({ origin: 'https://api.example.com', fetch: async () => (calls++, answer(429, { 'Retry-After': '2' })), now: () => NOW, sleep: async (ms) => void sleeps.push(ms), onWait: (wait) => waits.push(wait), maxAttempts: 3 });
    const response = await send(new Request('https://api.example.com/repos/a/b/hooks?per_page=100', { headers: { Authorization: 'Bearer t0ken' } }));
    expect(response.status).toBe(429);
    expect(calls).toBe(3);
    expect(sleeps).toEqual([2000, 2000]);
    expect(waits.map((wait) => [wait.request, wait.attempt])).toEqual([
      ['GET api.example.com/repos/a/b/hooks', 2],
      ['GET api.example.com/repos/a/b/hooks', 3],
    ]);
  });

  test('sends the same body again on a retry', async () => {
    const bodies: string[] = [];
    const replies = [answer(429, { 'Retry-After': '1' }), answer(201)];
    const send = hostFetch({ origin: 'https://api.example.com', fetch: async (request) => (bodies.push(await request.text()), replies.shift()!), now: () => NOW, sleep: async () => {}, onWait: () => {} });
    await send(new Request('https://api.example.com/x', { method: 'POST', body: '{"a":1}' }));
    expect(bodies).toEqual(['{"a":1}', '{"a":1}']);
  });
});

describe('hostFetch sends only to its API and follows no redirect', () => {
  test('a request to another origin is refused before the transport sees it', async () => {
    const seen: string[] = [];
    const send = hostFetch({ origin: 'https://api.example.com/api/v3', fetch: async (request) => (seen.push(request.url), answer(200)), now: () => NOW, sleep: async () => {}, onWait: () => {} });
    await expect(send(new Request('https://api.example.com.evil.example/api/v3/x', { headers: { Authorization: 'Bearer t0ken' } }))).rejects.toThrow(
      'GET /api/v3/x was not sent to https://api.example.com.evil.example: this client sends its credentials only to https://api.example.com',
    );
    expect(seen).toEqual([]);
  });

  test('every attempt asks the transport not to follow redirects; a redirect is an error, not retried', async () => {
    const modes: string[] = [];
    const send = hostFetch({
      origin: 'https://api.example.com',
      fetch: async (request) => (modes.push(request.redirect), new Response(null, { status: 307, headers: { Location: '/moved?token=x' } })),
      now: () => NOW,
      sleep: async () => {},
      onWait: () => {},
    });
    await expect(send(new Request('https://api.example.com/repos/a/b/hooks', { method: 'POST', body: '{}' }))).rejects.toThrow(
      'POST /repos/a/b/hooks answered 307, a redirect to https://api.example.com/moved: not followed',
    );
    expect(modes).toEqual(['manual']);
  });
});
