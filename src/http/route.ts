/** What the HTTP layer needs to know about a request before deciding anything: its path, whether it has a body. */

/** Base for request URLs that Bun leaves relative (no usable Host header, e.g. HTTP/1.0 without Host). */
const relativeBase = 'http://fluxgate.invalid';

/**
 * The path of a request, taken from the request line alone.
 *
 * Bun builds `request.url` from the Host header: `Host: x` gives `http://x/hook/metrics`, an HTTP/1.0 request
 * without Host gives just `/hook/metrics`. Elysia's router cut the path at a fixed offset into that string
 * (assuming `http://` and a host of at least 4 characters), so `Host: x` routed `/hook/metrics` to `/metrics`; its
 * `standardHostname: false` moves the offset to 7, which lands inside `https://` and breaks every route
 * under TLS. The WHATWG URL parser finds the path whatever the scheme and host are.
 *
 * @example requestPath(new Request('http://x/hook/metrics')) // '/hook/metrics'
 */
export function requestPath(request: Request): string {
  return new URL(request.url, relativeBase).pathname;
}

/**
 * True when the request carries a body (chunked, or a non-zero Content-Length), read or not.
 * @example hasBody(new Request('http://gw/healthz')) // false
 */
export function hasBody(request: Request): boolean {
  if (request.headers.has('transfer-encoding')) return true;
  const length = request.headers.get('content-length');
  return length !== null && length !== '0';
}

/**
 * A declared Content-Length, or undefined when there is none (chunked) or it is not a plain number.
 * @example declaredLength(new Request('http://gw/hook/github', { method: 'POST', headers: { 'content-length': '2' }, body: '{}' })) // 2
 */
export function declaredLength(request: Request): number | undefined {
  const length = request.headers.get('content-length');
  return length !== null && /^[0-9]+$/.test(length) ? Number(length) : undefined;
}

/**
 * A percent-encoded path segment, decoded; undefined when it is not valid percent-encoding of UTF-8 (`%ZZ`, a
 * lone `%`, an incomplete or overlong sequence): the sender's mistake, answered 400, never an error of fluxgate's.
 * @example decodedSegment('a%2Fb') // 'a/b'; decodedSegment('%ZZ') // undefined
 */
export function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
