/**
 * One HTTP request to a host's API, retried while the host says it is rate-limited, waiting as long as its headers
 * ask: `Retry-After` (seconds or a date), else the reset time (`X-RateLimit-Reset` on GitHub and Gitea,
 * `RateLimit-Reset` on GitLab). Every wait is announced first (the progress line) and taken on the injected `sleep`,
 * so tests never sleep. A wait longer than `maxWaitMs` is not taken: the rate-limited answer is returned and
 * becomes that scope's error.
 *
 * Each HostFetch serves one API origin (`register.apiUrl`'s): every attempt goes through `pinnedFetch`, so the
 * token and the hook secrets never reach another host, by a redirect or a URL the host hands back.
 */
import { pinnedFetch } from '../core/index.ts';
import type { HostFetch } from '../provider-kit/index.ts';

/** A wait about to be taken. */
export interface RateLimitWait {
  /** `GET api.github.com/repos/acme/app/hooks` (no query, no credentials). */
  request: string;
  waitMs: number;
  /** The header the wait comes from. */
  reason: string;
  /** The attempt that will follow the wait (2 = the first retry). */
  attempt: number;
  maxAttempts: number;
}

export interface HostFetchOptions {
  /** The API's URL: requests to any other origin are refused before they are sent. */
  origin: string;
  /** The transport (default: global fetch). */
  fetch?: (request: Request) => Promise<Response>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onWait: (wait: RateLimitWait) => void;
  /** Attempts per request, the first included (default 4). */
  maxAttempts?: number;
  /** The longest wait taken (default 15 minutes); a host asking for more gets its answer back. */
  maxWaitMs?: number;
  /** Time allowed per attempt (default 30 s). */
  timeoutMs?: number;
}

/** Without any header saying how long, a 429 is retried after 1 s, 2 s, 4 s… */
const FALLBACK_WAIT_MS = 1000;

/**
 * How long a rate-limited answer asks to wait, and which header said so; undefined when the answer is not a rate
 * limit (a 403 without rate-limit headers is a permission problem).
 *
 * @example
 * rateLimitWait(new Response('', { status: 429, headers: { 'Retry-After': '30' } }), Date.now(), 1);
 * // { waitMs: 30000, reason: 'Retry-After: 30' }
 */
export function rateLimitWait(response: Response, now: number, attempt: number): { waitMs: number; reason: string } | undefined {
  const headers = response.headers;
  const exhausted = headers.get('x-ratelimit-remaining') === '0' || headers.get('ratelimit-remaining') === '0';
  const limited = response.status === 429 || ((response.status === 403 || response.status === 503) && (exhausted || headers.has('retry-after')));
  if (!limited) return undefined;
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const ms = /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms)) return { waitMs: Math.max(0, ms), reason: `Retry-After: ${retryAfter.slice(0, 40)}` };
  }
  for (const name of ['x-ratelimit-reset', 'ratelimit-reset']) {
    const value = headers.get(name);
    if (value === null || !/^\d+$/.test(value.trim())) continue;
    // An epoch second (GitHub, GitLab) or, as in the IETF draft, seconds from now.
    const seconds = Number(value);
    const ms = seconds > 1e9 ? seconds * 1000 - now : seconds * 1000;
    return { waitMs: Math.max(0, ms) + 1000, reason: `${name}: ${value.slice(0, 20)}` };
  }
  return { waitMs: FALLBACK_WAIT_MS * 2 ** (attempt - 1), reason: `${response.status} without Retry-After` };
}

/**
 * A fetch that waits out rate limits as the host asks.
 *
 * @example
 * const send = hostFetch({ origin: 'https://api.github.com', now: Date.now, sleep: (ms) => Bun.sleep(ms), onWait: (wait) => console.error(`waiting ${wait.waitMs} ms`) });
 * const response = await send(new Request('https://api.github.com/repos/acme/app/hooks'));
 */
export function hostFetch(options: HostFetchOptions): HostFetch {
  const given = options.fetch;
  const transport = pinnedFetch(options.origin, given && ((input, init) => given(input instanceof Request ? new Request(input, init) : new Request(String(input), init))));
  const maxAttempts = options.maxAttempts ?? 4;
  const maxWaitMs = options.maxWaitMs ?? 15 * 60_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return async (request) => {
    // The body is read once per attempt, so it is kept as text.
    const body = request.body === null ? undefined : await request.text();
    for (let attempt = 1; ; attempt += 1) {
      const response = await transport(new Request(request.url, { method: request.method, headers: request.headers, body, signal: AbortSignal.timeout(timeoutMs) }));
      const wait = attempt < maxAttempts ? rateLimitWait(response, options.now(), attempt) : undefined;
      if (wait === undefined || wait.waitMs > maxWaitMs) return response;
      await response.body?.cancel();
      const url = new URL(request.url);
      options.onWait({ request: `${request.method} ${url.host}${url.pathname}`, waitMs: wait.waitMs, reason: wait.reason, attempt: attempt + 1, maxAttempts });
      await options.sleep(wait.waitMs);
    }
  };
}
