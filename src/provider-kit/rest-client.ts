/**
 * A small JSON client for GitHub's and Gitea's REST APIs, which share their shape: a token header, JSON bodies and
 * `Link: <…>; rel="next"` pagination. Requests go through a HostFetch (rate limits waited out); failures become
 * HostErrors. A `next` link to another origin is refused here, with a message saying so (the HostFetch under it
 * refuses any other origin too), so the token only goes to the configured API.
 */
import type { HostFetch } from './hook-host.ts';
import { OutboundRefusal, shownUrl } from '../core/index.ts';
import { HostError, hostError } from './host-error.ts';

export interface RestClient {
  /** Every item of a listing, following `Link: rel="next"` for at most `maxPages` pages. */
  list<T>(path: string): Promise<T[]>;
  /** One request with an optional JSON body; resolves to the parsed answer (undefined for 204). */
  send<T = unknown>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export interface RestClientOptions {
  /** `https://api.github.com`, `https://ghe.example.com/api/v3`, `https://gitea.example.com/api/v1`. */
  baseUrl: string;
  /** The authentication and media-type headers. */
  headers: Record<string, string>;
  send: HostFetch;
  /** The page-size query parameter, e.g. `{ per_page: '100' }` (GitHub) or `{ limit: '50' }` (Gitea). */
  pageSize: Record<string, string>;
  /** Pages read at most per listing (default 100). */
  maxPages?: number;
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    const rel = match && /(?:^|;)\s*rel\s*=\s*"?([^";]*)"?/i.exec(match[2]!)?.[1];
    if (rel && rel.trim().split(/\s+/).includes('next')) return match[1];
  }
  return undefined;
}

/**
 * @example
 * const github = restClient({ baseUrl: 'https://api.github.com', headers: { Authorization: `Bearer ${token}` }, send, pageSize: { per_page: '100' } });
 * const hooks = await github.list<{ id: number }>('/repos/acme/app/hooks');
 */
export function restClient(options: RestClientOptions): RestClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const origin = new URL(base).origin;
  const maxPages = options.maxPages ?? 100;
  const headers = { Accept: 'application/json', ...options.headers };

  async function call(method: string, url: string, body?: unknown): Promise<Response> {
    const request = new Request(url, { method, headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const response = await options.send(request);
    if (!response.ok) throw await hostError(response, `${method} ${new URL(url).pathname}`);
    return response;
  }

  return {
    async list<T>(path: string): Promise<T[]> {
      const first = new URL(base + path);
      for (const [key, value] of Object.entries(options.pageSize)) first.searchParams.set(key, value);
      const items: T[] = [];
      let url: string | undefined = first.href;
      for (let page = 1; url !== undefined; page += 1) {
        if (page > maxPages) throw new HostError(0, `GET ${first.pathname}`, `more than ${maxPages} pages: fluxgate reads at most ${maxPages}`);
        const response = await call('GET', url);
        const body = (await response.json()) as unknown;
        if (!Array.isArray(body)) throw new HostError(response.status, `GET ${first.pathname}`, 'the answer is not a list');
        items.push(...(body as T[]));
        const link = nextLink(response.headers.get('link'));
        const next: URL | undefined = link === undefined ? undefined : new URL(link, url);
        if (next !== undefined && next.origin !== origin) {
          const request = `GET ${first.pathname}`;
          throw new OutboundRefusal(`${request}: the next page is on another host; not followed (${shownUrl(next)})`, request);
        }
        url = next?.href;
      }
      return items;
    },
    async send<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const response = await call(method, base + path, body);
      const text = await response.text();
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
  };
}
