/**
 * An HTTP proxy on loopback that sends each request to the next of several upstreams in turn, as a Service in
 * front of replicas does; an upstream that refuses the connection (a killed replica) is skipped for the next one.
 * Only when none answers is the answer 502.
 */
export interface RoundRobinProxy {
  url: string;
  /** Requests each upstream answered, by index. */
  answered: number[];
  stop(): Promise<void>;
}

/**
 * @example
 * const proxy = startRoundRobinProxy([a.url, b.url, c.url]);
 * await fetch(`${proxy.url}/hook/github`, { method: 'POST', … });
 */
export function startRoundRobinProxy(upstreams: readonly string[]): RoundRobinProxy {
  let next = 0;
  const answered = upstreams.map(() => 0);
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
      for (let tried = 0; tried < upstreams.length; tried += 1) {
        const index = next++ % upstreams.length;
        try {
          const headers = new Headers(request.headers);
          headers.delete('host');
          const response = await fetch(`${upstreams[index]}${url.pathname}${url.search}`, { method: request.method, headers, body, redirect: 'manual' });
          answered[index]! += 1;
          // A stream (a relay's events) is passed on as it comes; anything else is read whole first.
          const streamed = response.headers.get('content-type')?.startsWith('text/event-stream') === true;
          return new Response(streamed && response.body ? endQuietly(response.body) : await response.arrayBuffer(), { status: response.status, headers: response.headers });
        } catch {
          // refused or cut: the next one
        }
      }
      return new Response('no upstream answered', { status: 502 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    answered,
    stop: () => server.stop(true),
  };
}

/** The upstream's stream, ended (not failed) when the upstream goes away: the client sees the stream close. */
function endQuietly(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch {
        controller.close();
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  });
}
