/**
 * An HTTPS proxy in front of a real Kubernetes API server, for fault tests: it forwards every request
 * (method, path and query, headers including Authorization, body) to the upstream API server and streams the
 * answer back, unless a queued fault says otherwise. It has its own CA and serving certificate, so a client
 * configured for it verifies TLS against the proxy, never against the upstream.
 *
 * Faults are queued per match (method and/or path substring) and consumed in order by the matching requests;
 * once a queue is empty, those requests are forwarded normally again.
 *
 * - `{ status: 429, retryAfter: '1' }`, `{ status: 503 }`: answered by the proxy with a real Kubernetes
 *   `Status` JSON body (and `Retry-After` when given); the request never reaches the upstream.
 * - `{ slow: ms }`: waits, then forwards. If the client gave up meanwhile the request is still forwarded, like
 *   a slow API server that completes a write whose client has timed out.
 * - `{ reset: true }`: reads the request, then resets the TCP connection with a real RST
 *   (`socket.resetAndDestroy()` on the raw TCP socket): the client sees ECONNRESET, no HTTP answer at all.
 * - `{ status: 410 }`: a `410 Expired` Status, as for a watch or a `continue` token too old for the server.
 * - `{ watchError: 410 }`: HTTP 200 and one watch ERROR event with that code (what the watch cache answers for
 *   a resourceVersion it no longer holds), then the end of the stream.
 * - `cutStreams()` ends every answer still streaming (watches): abruptly (the connection is reset, as when the
 *   API server dies) or cleanly (the stream ends, as when a watch times out).
 *
 * Layout: clients connect to a plain TCP front (node:net) that pipes each connection to a node:https server on
 * a private loopback port. node:https because a Bun.serve handler cannot drop the connection under a request;
 * the TCP front because only a raw TCP socket can be reset (Bun's TLS sockets refuse resetAndDestroy() and
 * destroy() sends a FIN). Upstream requests use Bun's fetch with `tls: { ca }`.
 *
 * Note: Bun's fetch silently retries an idempotent request (GET) once on a fresh connection when a reused
 * keep-alive connection is reset, so a single `reset` on a GET may be invisible to the client; PATCH is not
 * retried. Use resets on PATCH (or queue two for a GET).
 *
 * @example
 * const proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
 * proxy.injectFaults({ method: 'PATCH', path: '/gitrepositories/app' }, [{ status: 429, retryAfter: '1' }, { reset: true }]);
 * const kubeconfig = proxy.kubeconfig({ token: cluster.adminToken }); // YAML text, server = proxy.url
 * // ... run the client; inspect proxy.requests ...
 * await proxy.stop();
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { createFaultQueue } from './fault-queue.ts';
import { loopbackServerExt, withPkiDir } from './test-pki.ts';

export type Fault = { status: 429; retryAfter?: string } | { status: 503; retryAfter?: string } | { status: 410 } | { watchError: 410 } | { slow: number } | { reset: true };

export interface ProxiedRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  /** performance.now() when the request (with its body) had arrived. */
  at: number;
  /** performance.now() when the answer's status line was sent, or the connection reset. Undefined while pending. */
  answeredAt?: number;
  /** HTTP status sent back (upstream's or the fault's); undefined for a reset or a failed forward. */
  status?: number;
  fault?: Fault;
  contentType: string | null;
  /** The request body as text ('' when none). */
  body: string;
  /** Forwarding failed (upstream unreachable): the proxy answered 502. */
  error?: string;
  /** performance.now() when the answer was complete or the client's connection went away. */
  closedAt?: number;
}

export interface FaultProxy {
  url: string;
  /** The proxy's CA: what a client must trust to talk to `url`. */
  caPem: string;
  /** Every request received, in arrival order, with what happened to it. */
  requests: ProxiedRequest[];
  /** Queues faults for the next requests matching `match` (method exact, path substring); then normal forwarding resumes. */
  injectFaults(match: { method?: string; path?: string }, faults: Fault[]): void;
  /** Faults queued and not yet consumed. */
  pendingFaults(): number;
  /**
   * The most requests matching `filter` that were ever waiting for an answer at the same time (from arrival to
   * the status line of the answer). A client cannot have finished a request before its status line was sent, so
   * this never over-counts the client's concurrency.
   */
  maxConcurrent(filter?: (request: ProxiedRequest) => boolean): number;
  /** Ends every answer still streaming (watches); returns how many. `abrupt`: reset the connection instead of ending the stream. */
  cutStreams(options?: { abrupt?: boolean }): number;
  /** A kubeconfig (YAML text) pointing at the proxy, trusting its CA, authenticating with `token`. */
  kubeconfig(options: { token: string; context?: string }): string;
  /** The API server becomes unreachable, as in an outage: open connections are reset, new ones refused (nothing listens), until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

// ---- certificates -------------------------------------------------------------------------------------------

interface ProxyPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A CA and a serving certificate for 127.0.0.1 / localhost signed by it. */
function generatePki(): Promise<ProxyPki> {
  return withPkiDir(async (dir) => {
    await dir.makeCa('ca', 'fault-proxy-ca');
    await dir.makeLeaf('server', 'ca', '/CN=fault-proxy', loopbackServerExt());
    return { caPem: dir.read('ca.crt'), certPem: dir.read('server.crt'), keyPem: dir.read('server.key') };
  });
}

// One PKI per test process: proxies only need to be distinct servers, not distinct CAs.
let pkiOnce: Promise<ProxyPki> | undefined;
const pki = () => (pkiOnce ??= generatePki());

// ---- the proxy ----------------------------------------------------------------------------------------------

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the transport recomputes: not forwarded in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

const REASONS: Record<number, string> = { 410: 'Expired', 429: 'TooManyRequests', 503: 'ServiceUnavailable' };

/** The `Status` object kube-apiserver sends with an error. */
function statusBody(code: number, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'InternalError', details: {}, code };
}

export async function startFaultProxy(options: { upstream: string; upstreamCaPem: string }): Promise<FaultProxy> {
  const keys = await pki();
  const upstream = options.upstream.replace(/\/+$/, '');
  const faults = createFaultQueue<Fault>();
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  /** Answers whose body is still being streamed to the client. */
  const streaming = new Set<{ req: IncomingMessage; res: ServerResponse }>();
  let stopped = false;


  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  /**
   * Resets the client's TCP connection under `innerSocket` (the TLS server's side of it): RST on the raw client
   * socket of the TCP front (see below), then the inner hop is dropped too.
   */
  function reset(innerSocket: Socket): void {
    const client = clientByInnerPort.get(innerSocket.remotePort ?? -1);
    if (client) {
      try {
        client.resetAndDestroy();
      } catch {
        client.destroy(); // a runtime without resetAndDestroy on TCP sockets: close at least
      }
      innerSocket.destroy();
      return;
    }
    innerSocket.destroy(); // not reachable through the front (should not happen): at least close it
  }

  async function forward(req: IncomingMessage, res: ServerResponse, record: ProxiedRequest, body: Buffer): Promise<void> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    let answer: Response;
    // A client that goes away ends the upstream request too (a watch would otherwise stay open upstream).
    const upstreamRequest = new AbortController();
    res.on('close', () => upstreamRequest.abort());
    try {
      answer = await fetch(`${upstream}${record.path}`, {
        method: record.method,
        headers,
        body: body.length > 0 ? body : undefined,
        signal: upstreamRequest.signal,
        redirect: 'manual',
        // Pass the bytes through as the upstream sent them (a gzip answer stays gzip, with its header).
        decompress: false,
        tls: { ca: options.upstreamCaPem },
      } as RequestInit);
    } catch (e) {
      record.error = (e as Error).message;
      record.status = 502;
      record.answeredAt = performance.now();
      if (!res.destroyed) {
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(statusBody(502, `fault proxy: upstream ${upstream} failed: ${record.error}`)));
      }
      return;
    }
    const outHeaders: Record<string, string | string[]> = {};
    answer.headers.forEach((value, name) => {
      if (HOP_BY_HOP.has(name) && name !== 'content-length') return;
      if (name === 'set-cookie') return; // the API server sends none; Headers would join them wrongly
      outHeaders[name] = value;
    });
    record.status = answer.status;
    record.answeredAt = performance.now();
    if (res.destroyed) {
      // The client has gone (e.g. timed out during a `slow` fault): the upstream did the work anyway.
      await answer.arrayBuffer().catch(() => undefined);
      return;
    }
    res.writeHead(answer.status, outHeaders);
    // A watch sends its headers before any event: pass them on at once (node holds them until the first write).
    res.flushHeaders();
    if (answer.body) {
      const entry = { req, res };
      streaming.add(entry);
      try {
        for await (const chunk of answer.body) {
          if (res.destroyed || res.writableEnded) break;
          res.write(chunk);
        }
      } catch {
        // Upstream broke off mid-body: break the client's connection too rather than end it cleanly.
        if (!res.writableEnded) reset(req.socket);
        return;
      } finally {
        streaming.delete(entry);
      }
    }
    if (!res.writableEnded) res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    const fault = faults.take(method, path);
    const record: ProxiedRequest = {
      method,
      path,
      at: performance.now(),
      contentType: req.headers['content-type'] ?? null,
      body: body.toString('utf8'),
      ...(fault ? { fault } : {}),
    };
    requests.push(record);
    res.on('close', () => {
      record.closedAt ??= performance.now();
    });

    if (fault && 'watchError' in fault) {
      record.status = 200;
      record.answeredAt = performance.now();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: { ...statusBody(fault.watchError, 'too old resource version (injected by the fault proxy)'), reason: 'Expired' } })}\n`);
      return;
    }
    if (fault && 'reset' in fault) {
      record.answeredAt = performance.now();
      reset(req.socket);
      return;
    }
    if (fault && 'status' in fault) {
      record.status = fault.status;
      record.answeredAt = performance.now();
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
      if ('retryAfter' in fault && fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
      const message =
        fault.status === 429 ? 'Too many requests, please try again later.' : fault.status === 410 ? 'too old resource version (injected by the fault proxy)' : 'The server is currently unable to handle the request (injected by the fault proxy)';
      res.writeHead(fault.status, headers);
      res.end(JSON.stringify(statusBody(fault.status, message)));
      return;
    }
    if (fault && 'slow' in fault) {
      await sleep(fault.slow);
      if (stopped) return;
    }
    await forward(req, res, record, body);
  }

  // The TLS server: node:https, listening on a private loopback port behind the TCP front.
  const server = https.createServer({ key: keys.keyPem, cert: keys.certPem }, (req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(statusBody(500, `fault proxy: ${(e as Error).message}`)));
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const innerPort = (server.address() as { port: number }).port;

  // The TCP front clients connect to. It pipes each connection to the TLS server and remembers which client
  // socket sits behind which inner connection (by the inner connection's local port), because only a raw TCP
  // socket can be reset: under Bun, the TLS socket node:https hands out refuses resetAndDestroy()
  // (ERR_INVALID_HANDLE_TYPE), and destroy() closes with a FIN, which is not a reset.
  const clientByInnerPort = new Map<number, Socket>();
  const front = createServer((client) => {
    sockets.add(client);
    const inner = connect(innerPort, '127.0.0.1');
    sockets.add(inner);
    let innerPortKey: number | undefined;
    inner.on('connect', () => {
      innerPortKey = inner.localPort;
      if (innerPortKey !== undefined) clientByInnerPort.set(innerPortKey, client);
    });
    client.pipe(inner);
    inner.pipe(client);
    const close = () => {
      if (innerPortKey !== undefined) clientByInnerPort.delete(innerPortKey);
      client.destroy();
      inner.destroy();
    };
    client.on('error', close);
    inner.on('error', close);
    client.on('close', () => {
      sockets.delete(client);
      close();
    });
    inner.on('close', () => {
      sockets.delete(inner);
      close();
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', resolve);
  });
  const frontPort = (front.address() as { port: number }).port;
  const url = `https://127.0.0.1:${frontPort}`;

  return {
    url,
    caPem: keys.caPem,
    requests,
    injectFaults(match, queued) {
      faults.inject(match, queued);
    },
    pendingFaults: () => faults.pending(),
    cutStreams({ abrupt = true } = {}) {
      const cut = [...streaming];
      for (const entry of cut) {
        const { req, res } = entry;
        streaming.delete(entry);
        if (abrupt) reset(req.socket);
        else res.end();
      }
      return cut.length;
    },
    maxConcurrent(filter = () => true) {
      // Sweep over arrival (+1) and answer (-1) events; at equal times answers count first, so touching
      // intervals are not counted as overlapping. A request never answered counts until the end.
      const events: [number, number][] = [];
      for (const r of requests.filter(filter)) {
        events.push([r.at, 1]);
        events.push([r.answeredAt ?? Number.POSITIVE_INFINITY, -1]);
      }
      events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let current = 0;
      let max = 0;
      for (const [, delta] of events) {
        current += delta;
        max = Math.max(max, current);
      }
      return max;
    },
    kubeconfig({ token, context = 'fault-proxy' }) {
      return toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: context, cluster: { server: url, 'certificate-authority-data': Buffer.from(keys.caPem).toString('base64') } }],
        users: [{ name: context, user: { token } }],
        contexts: [{ name: context, context: { cluster: context, user: context } }],
        'current-context': context,
      });
    },
    async down() {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const socket of sockets) {
        try {
          socket.resetAndDestroy();
        } catch {
          socket.destroy();
        }
      }
      await closed;
    },
    async up() {
      await new Promise<void>((resolve, reject) => {
        front.once('error', reject);
        front.listen(frontPort, '127.0.0.1', () => {
          front.off('error', reject);
          resolve();
        });
      });
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => front.close(() => resolve())),
        new Promise<void>((resolve) => server.close(() => resolve())),
      ]);
    },
  };
}
