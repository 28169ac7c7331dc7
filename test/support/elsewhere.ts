/**
 * A listener on 127.0.0.2 — another origin than the fakes on 127.0.0.1 (Linux routes all of 127/8 to lo) — that
 * records everything reaching it, and the redirects that point at it: what a host that would hand a client's
 * credentials to someone else answers. A client keeps its credentials when `received` stays empty.
 *
 * @example
 * const elsewhere = startElsewhere();
 * gitlab.intercept((request) => (request.method === 'POST' ? elsewhere.redirect(307) : undefined));
 * // … run the client …
 * expect(elsewhere.received).toEqual([]);
 */

export interface Received {
  method: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Elsewhere {
  /** `http://127.0.0.2:PORT` */
  origin: string;
  received: Received[];
  /** Where the redirects point: with userinfo, a query string and a fragment, none of which may be shown. */
  location: string;
  /** What a message may show of `location`: `http://127.0.0.2:PORT/collect/hooks`. */
  shown: string;
  /** A redirect answer with `status` to `location`. */
  redirect(status: number): Response;
  stop(): Promise<void>;
}

export function startElsewhere(): Elsewhere {
  const received: Received[] = [];
  const server = Bun.serve({
    hostname: '127.0.0.2',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      received.push({ method: request.method, path: url.pathname + url.search, headers: Object.fromEntries(request.headers), body: await request.text() });
      // Answers a client would take for success, so a followed redirect shows as "done".
      if (request.method === 'GET') return Response.json([]);
      return Response.json({ id: 99 }, { status: request.method === 'POST' ? 201 : 200 });
    },
  });
  const origin = `http://127.0.0.2:${server.port}`;
  const location = `http://collector:hunter2@127.0.0.2:${server.port}/collect/hooks?session=leak-7f3a#frag`;
  return {
    origin,
    received,
    location,
    shown: `${origin}/collect/hooks`,
    redirect: (status) => new Response(null, { status, headers: { Location: location } }),
    stop: async () => {
      await server.stop(true);
    },
  };
}
