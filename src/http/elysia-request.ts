/**
 * The request Elysia is handed: one whose URL Elysia's router reads the right path from.
 *
 * Elysia (1.4) takes the path as everything from `url.indexOf('/', 11)` on (elysiajs/elysia#748): it assumes
 * `http://` and a host of at least four characters. Bun builds `request.url` from the Host header, so `Host: x`
 * gives `http://x/hook/metrics`, which Elysia routes as `/metrics`; under TLS `https://gw/…` is cut the same way,
 * and a request without a usable Host (HTTP/1.0, `Host: a/b`) has a relative URL that is cut anywhere.
 * `standardHostname: false` moves the offset to 7, which lands inside `https://` and breaks every route under
 * TLS; `app.listen()` fixes declared routes only. So fluxgate serves with its own `Bun.serve` and, when the
 * offset would miss the path, hands Elysia a copy at a fixed origin whose length the offset fits. The copy keeps
 * the method, headers and the body stream (unread); the client address is carried beside it (`requestIP` is
 * null for a copy).
 */
import { absoluteUrl } from './route.ts';

/** Where Elysia starts looking for the path (elysiajs/elysia#748). */
const ELYSIA_PATH_OFFSET = 11;
/** Long enough for the offset; `.invalid` can never be a real host (RFC 6761). Relative URLs get it too (route.ts). */
const FIXED_ORIGIN = 'http://fluxgate.invalid';

/**
 * Where the path starts in one of Bun's request URLs: after `scheme://host` (Bun never puts a `/` in the host it
 * writes), or 0 for a relative one.
 */
function pathStart(url: string): number {
  if (url.charCodeAt(0) === 0x2f) return 0;
  return url.indexOf('/', url.indexOf('//') + 2);
}

/**
 * The request itself when Elysia finds its path (the usual case, a few string compares), else a copy whose URL
 * is the fixed origin followed by the request's path and query.
 *
 * @example forElysia(new Request('http://x/hook/metrics')).url // 'http://fluxgate.invalid/hook/metrics'
 */
export function forElysia(request: Request): Request {
  const url = request.url;
  const start = pathStart(url);
  if (start >= ELYSIA_PATH_OFFSET) return request;
  // The Request constructor resolves dot segments as Bun does for the URLs it makes absolute.
  return new Request(start > 0 ? FIXED_ORIGIN + url.slice(start) : absoluteUrl(url), request);
}
