/** What the HTTP layer needs to know about a request before deciding anything: its path, whether it has a body. */

/** Base for request URLs that Bun leaves relative (no usable Host header, e.g. HTTP/1.0 without Host). */
const relativeBase = 'http://fluxgate.invalid';

/**
 * The request URL made absolute, its path the request line's path. Bun builds `request.url` from the Host
 * header when that is a valid host (`Host: x` gives `http://x/hook/metrics`, an absolute-form request line keeps
 * only its path) and otherwise leaves the request-target as sent (`//hook/metrics` for HTTP/1.0 without Host, or
 * `Host: a/b`). Such a target is appended to a base, never resolved against it: resolving would read
 * `//hook/metrics` as the host `hook` and the path `/metrics`.
 *
 * @example absoluteUrl('//hook/metrics') // 'http://fluxgate.invalid//hook/metrics'
 */
export function absoluteUrl(url: string): string {
  return url.charCodeAt(0) === 0x2f ? relativeBase + url : url;
}

/**
 * The path of a request, taken from the request line alone, never from the Host header, with dot segments
 * resolved as the WHATWG URL parser does (Bun does the same for the URLs it makes absolute).
 *
 * @example requestPath(new Request('http://x/hook/metrics')) // '/hook/metrics'
 */
export function requestPath(request: Request): string {
  return new URL(absoluteUrl(request.url)).pathname;
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
