/**
 * The common part of the fake Git host APIs (fake-github.ts, fake-gitlab.ts, fake-gitea.ts): real HTTP on
 * loopback, every request recorded (method, path with query, the credential header, the JSON body), answers
 * queued ahead of the fake's own (a 429 with Retry-After, a 502), and offset pagination with `Link` headers as
 * the hosts send them.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  /** The credential as sent: `Bearer …`, `token …` or the PRIVATE-TOKEN value; null when none. */
  auth: string | null;
  body?: any;
}

export interface FakeApi {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  requests: RecordedRequest[];
  /** The next answers, before the fake's own (each used once, in order). */
  queue(...responses: (() => Response)[]): void;
  /** Answers in the fake's place whenever `answer` returns a Response (a redirect for POST only, say); replaces the last one. */
  intercept(answer: (request: RecordedRequest) => Response | undefined): void;
  stop(): Promise<void>;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers } });
}

/**
 * One page of `items` and the headers that link the others, from the request's `page` and page-size parameter.
 * `extra` adds the host's own headers (GitLab's X-Page…, Gitea's X-Total-Count).
 */
export function page<T>(url: URL, items: readonly T[], sizeParam: string, defaultSize: number, maxSize: number, extra: (page: number, size: number, pages: number) => Record<string, string> = () => ({})): Response {
  const size = Math.min(maxSize, Math.max(1, Number(url.searchParams.get(sizeParam) ?? defaultSize) || defaultSize));
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
  const link = (target: number) => {
    const next = new URL(url);
    next.searchParams.set('page', String(target));
    next.searchParams.set(sizeParam, String(size));
    return next.href;
  };
  const rels = [
    ...(current < pages ? [`<${link(current + 1)}>; rel="next"`, `<${link(pages)}>; rel="last"`] : []),
    ...(current > 1 ? [`<${link(1)}>; rel="first"`, `<${link(current - 1)}>; rel="prev"`] : []),
  ];
  return json(items.slice((current - 1) * size, current * size), 200, { ...(rels.length > 0 ? { Link: rels.join(', ') } : {}), ...extra(current, size, pages) });
}

export function startFakeApi(authHeader: string, handle: (request: RecordedRequest, url: URL) => Response): FakeApi {
  const requests: RecordedRequest[] = [];
  const queued: (() => Response)[] = [];
  const interceptor = { answer: (_request: RecordedRequest): Response | undefined => undefined };
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const text = await request.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      const recorded: RecordedRequest = { method: request.method, path: url.pathname + url.search, auth: request.headers.get(authHeader), ...(body !== undefined ? { body } : {}) };
      requests.push(recorded);
      const next = queued.shift();
      return next ? next() : (interceptor.answer(recorded) ?? handle(recorded, url));
    },
  });
  return {
    origin: `http://127.0.0.1:${server.port}`,
    requests,
    queue: (...responses) => queued.push(...responses),
    intercept: (answer) => void (interceptor.answer = answer),
    stop: async () => {
      await server.stop(true);
    },
  };
}
