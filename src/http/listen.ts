/** Creates the HTTP(S) server that feeds requests to the app: the Bun.serve options and why each is set. */

export interface ListenOptions {
  /** Which listener this is, for the error when the address cannot be bound (`server.address`). */
  role: string;
  /** `host:port`; `[v6]:port` for IPv6; port 0 picks a free port. */
  address: string;
  tls?: { cert: string; key: string };
  /** Whole seconds from 1 to 255 (Bun's range), in milliseconds. */
  idleTimeoutMs: number;
  /**
   * `peer()` is the address of the TCP peer (the client, or a proxy in front of it): asked only when needed;
   * `untimed()` exempts the request's connection from idleTimeout (a stream the app bounds itself).
   */
  handle(request: Request, peer: () => string | undefined, untimed: () => void): Promise<Response>;
}

export interface Listener {
  /** Where a client on this host reaches the server. */
  url: string;
  /** `host:port` actually bound. */
  address: string;
  port: number;
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}

/**
 * Bun answers 413 by itself, before fluxgate sees the request, for a declared length above this: such a
 * refusal would be neither logged nor counted. fluxgate's own reader enforces server.maxBodySize while
 * streaming (it never buffers past the limit), so Bun's backstop is put out of reach.
 */
const bunBodyLimit = Number.MAX_SAFE_INTEGER;

function splitAddress(address: string): { hostname: string; port: number } {
  const index = address.lastIndexOf(':');
  const host = address.slice(0, index).replace(/^\[(.*)\]$/, '$1');
  return { hostname: host || '0.0.0.0', port: Number(address.slice(index + 1)) };
}

/**
 * @example
 * const server = listen({ role: 'server.address', address: '127.0.0.1:0', idleTimeoutMs: 10_000, handle: app.handle });
 * await fetch(`${server.url}/healthz`);
 * await server.stop();
 */
export function listen(options: ListenOptions): Listener {
  const { hostname, port } = splitAddress(options.address);
  let server;
  try {
    server = serve(options, hostname, port);
  } catch (error) {
    throw new Error(`cannot listen on ${options.address} (${options.role}): ${(error as Error).message}`);
  }
  const bound = server.port!;
  const shownHost = hostname === '0.0.0.0' ? '127.0.0.1' : hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `${options.tls ? 'https' : 'http'}://${shownHost}:${bound}`,
    address: `${hostname}:${bound}`,
    port: bound,
    stop: () => server.stop(true),
  };
}

function serve(options: ListenOptions, hostname: string, port: number) {
  return Bun.serve({
    hostname,
    port,
    // Bun's default (and Elysia's listen()) sets SO_REUSEPORT, which lets a second instance bind the same port silently.
    reusePort: false,
    maxRequestBodySize: bunBodyLimit,
    // Closes keep-alive connections idle this long. Bun also closes a connection whose request is not complete
    // within about this time (it checks every 4 s), and one that has not sent a whole first request within
    // about 10 s whatever this is set to.
    idleTimeout: Math.round(options.idleTimeoutMs / 1000),
    tls: options.tls,
    // requestIP costs a native call per request; only a provider with allowedSources needs the address.
    fetch: (request, server) => options.handle(request, () => server.requestIP(request)?.address, () => server.timeout(request, 0)),
  });
}
