/**
 * The transport of every outbound client that carries a credential (a Git host's token, a webhook secret in a
 * request body, a Kubernetes bearer token, a signed delivery) or trusts what it fetches (an OIDC issuer's keys).
 *
 * Two rules, kept here once: a request goes only to the one origin the client was configured with, checked before
 * it is sent (so a `Link` header or an answer naming another host can never receive the credential), and a
 * redirect is never followed. fetch would follow it with the same headers to wherever `Location` points — Bun
 * drops only `Authorization` on a cross-origin redirect, and a 307/308 sends the body again — so a 301, 302, 303,
 * 307 or 308 is an error naming its Location, shown without userinfo, query string or fragment.
 */

/** The shape of `fetch` the clients call (Bun's own fetch fits, with its `tls` and `proxy` options). */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The statuses fetch follows by itself. */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** A request that was not sent (another origin) or an answer that was not followed (a redirect). Never holds a credential. */
export class OutboundRefusal extends Error {
  override name = 'OutboundRefusal';
  constructor(
    message: string,
    /** `GET /repos/acme/app/hooks`: method and path, no query. */
    readonly request: string,
    /** The redirect's status; undefined when the request was not sent. */
    readonly status?: number,
    /** Where the redirect pointed, as `shownUrl` shows it. */
    readonly location?: string,
  ) {
    super(message);
  }
}

/**
 * A URL as it may be shown in messages: scheme, host, port and path (at most 200 characters), never userinfo,
 * query string or fragment, where tokens travel.
 *
 * @example
 * shownUrl(new URL('https://user:pw@evil.example/collect?token=x#y')); // 'https://evil.example/collect'
 */
export function shownUrl(url: URL): string {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `a ${url.protocol} URL`;
  const text = `${url.protocol}//${url.host}${url.pathname}`;
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function locationOf(response: Response, base: URL): string | undefined {
  const location = response.headers.get('location');
  if (location === null) return undefined;
  try {
    return shownUrl(new URL(location, base));
  } catch {
    return 'an address that is not a URL';
  }
}

/**
 * `transport` restricted to `origin`, redirects refused. Throws at once when `origin` is not an http(s) URL.
 *
 * @example
 * const send = pinnedFetch('https://gitlab.example.com');
 * await send('https://gitlab.example.com/api/v4/projects/1/hooks', { headers: { 'PRIVATE-TOKEN': token } });
 * // a 302 answer rejects with OutboundRefusal('GET /api/v4/projects/1/hooks answered 302, a redirect to https://other.example/x: not followed')
 */
export function pinnedFetch(origin: string | URL, transport: Fetch = fetch): Fetch {
  const allowed = new URL(origin);
  if (allowed.protocol !== 'http:' && allowed.protocol !== 'https:') throw new TypeError(`not an http(s) URL: ${shownUrl(allowed)}`);
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const request = `${(init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()} ${url.pathname}`;
    if (url.origin !== allowed.origin) {
      const other = url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : shownUrl(url);
      throw new OutboundRefusal(`${request} was not sent to ${other}: this client sends its credentials only to ${allowed.origin}`, request);
    }
    const response = await transport(input, { ...init, redirect: 'manual' });
    if (!REDIRECTS.has(response.status) && response.type !== 'opaqueredirect') return response;
    await response.body?.cancel().catch(() => undefined);
    const location = locationOf(response, url);
    const where = location === undefined ? 'a redirect without a Location' : `a redirect to ${location}`;
    throw new OutboundRefusal(`${request} answered ${response.status}, ${where}: not followed`, request, response.status, location);
  };
}
