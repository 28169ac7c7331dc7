/**
 * The HTTP surface: routes requests, bounds what they may cost (bodies, waiting requests), hands webhook
 * bodies to the pipeline and renders its answers. The decisions about a webhook stay in
 * `pipeline/handle-webhook.ts`; what this layer needs arrives in `HttpDeps`.
 */
import type { RouteTable } from '../pipeline/index.ts';
import type { BlockList } from 'node:net';
import { handleWebhook, type WebhookAnswer, type WebhookDeps } from '../pipeline/index.ts';
import type { DeliveryLog } from '../store/index.ts';
import type { Logger } from '../core/index.ts';
import type { Metrics } from '../observe/index.ts';
import { createBodyBudget, type BodyBudget } from './body-budget.ts';
import { readBody, type BodyRefusal, type Timers } from './read-body.ts';
import { createRequestGate, type RequestGate } from './request-gate.ts';
import { safeEqual } from '../core/index.ts';
import { clientAddress } from './client-address.ts';
import { decodedSegment, hasBody, requestPath } from './route.ts';
import type { DeliveryRecord } from '../store/index.ts';
import { renderDeliveryPage } from './delivery-page.ts';
import { withAdminHeaders } from './admin-headers.ts';
import { deliveryFilter } from './delivery-query.ts';
import { failureView } from './state-section.ts';
import type { FailureRecord } from '../store/index.ts';

export interface Readiness {
  ready: boolean;
  /** Why, in a word (`unreachable`, `forbidden`, `discovery-not-synced`, `dry-run`, …): shown to every reader. */
  reason?: string;
  /** Why, in full (the API server's URL, the error's text): shown only to a reader with the admin token, when one is set. */
  detail?: string;
  /** With `clusters:`: each cluster's own readiness (fluxgate is ready while one of them is). */
  clusters?: Record<string, Readiness>;
  /** With discovery: each watched kind's state (`watching`, `kind-absent`, …), objects held and any problem (a detail). */
  discovery?: readonly { kind: string; state: string; problem?: string; objects: number; synced: boolean }[];
}

/** Readiness without its details: what a reader without the admin token sees. */
function withoutDetail({ detail: _detail, clusters, discovery, ...readiness }: Readiness): Readiness {
  return {
    ...readiness,
    ...(clusters ? { clusters: Object.fromEntries(Object.entries(clusters).map(([name, cluster]) => [name, withoutDetail(cluster)])) } : {}),
    ...(discovery ? { discovery: discovery.map(({ problem: _problem, ...watch }) => watch) } : {}),
  };
}

/** The `server:` limits this layer enforces (sizes in bytes, durations in milliseconds). */
export interface HttpLimits {
  maxBodySize: number;
  maxBodyBytesInFlight: number;
  bodyTimeout: number;
  maxConcurrentRequests: number;
}

export interface HttpDeps {
  /** Providers by route (`/hook/<name>` or their configured `path`); may change between requests. */
  routes: Pick<RouteTable, 'get'>;
  /** Proxies whose `X-Forwarded-For` is believed, for providers' `allowedSources`. */
  trustedProxies?: BlockList;
  webhook: WebhookDeps;
  limits: HttpLimits;
  /** Runs the body deadline. */
  timers: Timers;
  metrics: Metrics;
  log: Logger;
  deliveries: DeliveryLog;
  /** False once shutdown has begun: hooks answer 503. */
  accepting(): boolean;
  readiness(): Promise<Readiness>;
  /** The status page; `refresh` false when the reader asked it to stop refreshing. */
  statusPage(refresh: boolean): string;
  /** A request for a path no route serves on the webhook port (counted and logged, rate-limited). */
  unknownRoute(path: string): void;
  now(): number;
  /** The admin listener's page: a bearer token it and /api/* require, and whether there is a page at all (read per request: a reload may change them). */
  admin(): { token?: string; statusPage: boolean };
  /** The failures the journal keeps, and owing them again (all, or those seqs); returns how many. */
  failures: { list(): readonly FailureRecord[]; retry(seqs?: readonly number[]): number };
}

export interface HttpApp {
  /** Answers one request (`peer()`: the TCP peer's address, when known); never throws. */
  handle(request: Request, peer?: () => string | undefined): Promise<Response>;
}

/** The two listeners' apps: webhooks (public) and the admin surface (loopback unless opened on purpose). */
export interface HttpApps {
  /** `POST /hook/*` and `GET /healthz` (for load balancers); nothing else. */
  webhook: HttpApp;
  /** `/`, `/api/deliveries`, `/metrics`, `/healthz`, `/readyz`. */
  admin: HttpApp;
}

const jsonHeaders = { 'content-type': 'application/json' };

function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...jsonHeaders, ...headers } : jsonHeaders });
}

/**
 * An answer given without reading the request's body. `Connection: close` makes Bun close the connection
 * after the answer instead of reading the rest of the body to reuse it, so the sender is stopped at once.
 */
function refuse(request: Request, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return json(status, body, hasBody(request) ? { ...headers, connection: 'close' } : headers);
}

function answer(result: WebhookAnswer): Response {
  return json(result.status, result.body, result.headers);
}

/** Gauges of what the limits bound, evaluated when /metrics is scraped. */
function limitMetrics(metrics: Metrics, budget: BodyBudget, gate: RequestGate): void {
  metrics.gaugeOf('fluxgate_http_body_bytes_in_flight', 'Bytes of request bodies being read (bounded by server.maxBodyBytesInFlight).', () => budget.inUse());
  metrics.gaugeOf('fluxgate_http_requests_in_flight', 'Requests waiting for a body or a readiness check (bounded by server.maxConcurrentRequests).', () => gate.inFlight());
}

/**
 * @example
 * const apps = createHttpApps(deps);
 * Bun.serve({ fetch: (request) => apps.webhook.handle(request) });
 */
export function createHttpApps(deps: HttpDeps): HttpApps {
  const { routes, metrics, limits, log } = deps;
  // A body larger than the whole budget could never be read; such a body is refused as too large.
  const maxBodySize = Math.min(limits.maxBodySize, limits.maxBodyBytesInFlight);
  if (maxBodySize < limits.maxBodySize) {
    log.warn('server.maxBodyBytesInFlight is smaller than server.maxBodySize: bodies above it are refused with 413', { maxBodySize, maxBodyBytesInFlight: limits.maxBodyBytesInFlight });
  }
  // A body over the limit is read on and thrown away up to this size, so its sender reads the 413 (see
  // read-body.ts): at most a quarter of the budget, which a drain holds as a read would.
  const drainBytes = Math.max(maxBodySize, Math.floor(limits.maxBodyBytesInFlight / 4));
  const budget = createBodyBudget(limits.maxBodyBytesInFlight);
  const gate = createRequestGate(limits.maxConcurrentRequests);
  limitMetrics(metrics, budget, gate);
  const retryAfter = { 'retry-after': String(deps.webhook.retryAfterSeconds) };

  const bodyRefusals: Record<BodyRefusal, { status: number; reason: string; headers?: Record<string, string> }> = {
    'too-large': { status: 413, reason: `body larger than ${maxBodySize} bytes` },
    'over-budget': { status: 503, reason: 'too many request bodies being read', headers: retryAfter },
    timeout: { status: 408, reason: `body not received within ${limits.bodyTimeout} ms` },
    // Nobody is left to read this answer; it is counted as a malformed request.
    aborted: { status: 400, reason: 'connection closed before the body was complete' },
  };

  async function hook(request: Request, path: string, peer: (() => string | undefined) | undefined): Promise<Response> {
    // Looked up once: the delivery keeps this provider even if the routes change while its body is read.
    const provider = routes.get(path);
    if (!provider) {
      deps.unknownRoute(path);
      return refuse(request, 404, { error: `no provider at ${path.slice(0, 140)}` });
    }
    if (request.method !== 'POST') return refuse(request, 405, { error: 'use POST' }, { allow: 'POST' });
    const started = performance.now();
    if (!gate.enter()) {
      deps.webhook.reporter.rejected(provider, 503, 'too many requests in flight');
      return refuse(request, 503, { error: 'too many requests in flight' }, retryAfter);
    }
    try {
      if (!deps.accepting()) {
        deps.webhook.reporter.rejected(provider, 503, 'shutting down');
        return refuse(request, 503, { error: 'shutting down' }, retryAfter);
      }
      const read = await readBody(request, { maxBytes: maxBodySize, drainBytes, budget, timeoutMs: limits.bodyTimeout, timers: deps.timers });
      if (!read.ok) {
        const refusal = bodyRefusals[read.refusal];
        deps.webhook.reporter.rejected(provider, refusal.status, refusal.reason);
        // Whatever of the body is left unread, closing stops the sender sending it.
        return json(refusal.status, { error: refusal.reason }, { ...refusal.headers, connection: 'close' });
      }
      // The sender's address matters only to a provider that restricts it.
      const source = provider.allowedSources ? clientAddress(peer?.(), request.headers.get('x-forwarded-for'), deps.trustedProxies) : undefined;
      return answer(await handleWebhook(provider, { body: read.body, headers: request.headers, ...(source !== undefined ? { source } : {}) }, deps.webhook));
    } finally {
      gate.leave();
      metrics.webhookDuration.observe({ provider: provider.name }, (performance.now() - started) / 1000);
    }
  }

  /** Whether the request may see what the admin token guards: no token is set, or it carries the token. */
  const admitted = (request: Request): 'yes' | 'no token given' | 'wrong token' => {
    const token = deps.admin().token;
    if (token === undefined) return 'yes';
    const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    if (given === undefined) return 'no token given';
    return safeEqual(given, token) ? 'yes' : 'wrong token';
  };

  /** Probes carry no token and need only the status: the details (URLs, error text) are for a token's bearer. */
  async function readyz(request: Request): Promise<Response> {
    if (!deps.accepting()) return json(503, { ready: false, reason: 'shutting-down' });
    // A readiness check may wait for the API server: it counts against the cap like a hook.
    if (!gate.enter()) return json(503, { ready: false, reason: 'busy' }, retryAfter);
    try {
      const readiness = await deps.readiness();
      return json(readiness.ready ? 200 : 503, admitted(request) === 'yes' ? readiness : withoutDetail(readiness));
    } finally {
      gate.leave();
    }
  }

  const healthz = () => json(200, { status: 'ok' });
  /** The status page and the API may want the admin token; the metrics and the probes never do. */
  const guarded = (page: (request: Request) => Response) => (request: Request) => {
    const admission = admitted(request);
    if (admission === 'yes') return page(request);
    const error = admission === 'no token given' ? 'this page needs the admin token (Authorization: Bearer …)' : 'the admin token does not match';
    return json(401, { error }, { 'www-authenticate': 'Bearer' });
  };

  const html = (text: string) => new Response(text, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  const query = (request: Request) => new URL(request.url, 'http://admin').searchParams;
  const withPage = (answer: () => Response) => () => (deps.admin().statusPage ? answer() : json(404, { error: 'not found' }));
  const oneDelivery = (prefix: string, render: (record: DeliveryRecord) => Response) => (request: Request) => {
    const id = decodedSegment(requestPath(request).slice(prefix.length));
    if (id === undefined) return json(400, { error: 'the delivery id in the path is not valid percent-encoding' });
    const record = deps.deliveries.find(id);
    return record ? render(record) : json(404, { error: `no recent delivery ${id.slice(0, 140)}` });
  };

  /** Admin pages read no body. All but /readyz answer on the spot, so they are never refused by the cap. */
  const pages = new Map<string, (request: Request) => Response | Promise<Response>>([
    ['/healthz', healthz],
    ['/readyz', readyz],
    ['/metrics', async () => {
      const { contentType, body } = await metrics.scrape();
      return new Response(body, { headers: { 'content-type': contentType } });
    }],
    [
      '/api/deliveries',
      guarded((request) => {
        const parsed = deliveryFilter(query(request), deps.now());
        return 'error' in parsed ? json(400, { error: parsed.error }) : json(200, { deliveries: deps.deliveries.recent(parsed.filter) });
      }),
    ],
    ['/api/failures', guarded(() => json(200, { failures: deps.failures.list().map(failureView) }))],
    ['/', guarded((request) => withPage(() => html(deps.statusPage(query(request).get('refresh') !== 'off')))())],
  ]);
  /**
   * Actions change state: POST without a body, never from another site's page (a browser says where a request
   * comes from in Sec-Fetch-Site; tools send none). A form on the status page is sent back to it.
   */
  const retryFailures = guarded((request) => {
    const site = request.headers.get('sec-fetch-site');
    if (site !== null && site !== 'same-origin' && site !== 'none') return json(403, { error: 'actions are taken from the status page or a client, not from another site' });
    const given = query(request).getAll('seq');
    const seqs = given.map(Number);
    if (seqs.some((seq) => !Number.isSafeInteger(seq) || seq < 1)) return json(400, { error: 'seq: the number of a failure from /api/failures' });
    const retried = deps.failures.retry(given.length > 0 ? seqs : undefined);
    if ((request.headers.get('accept') ?? '').includes('text/html')) return new Response(null, { status: 303, headers: { location: '/' } });
    return json(200, { retried });
  });
  const actions = new Map<string, (request: Request) => Response>([['/api/failures/retry', retryFailures]]);
  /** Pages under a prefix: one delivery, as JSON or as a page. */
  const prefixed: [string, (request: Request) => Response][] = [
    ['/api/deliveries/', guarded(oneDelivery('/api/deliveries/', (record) => json(200, record)))],
    ['/deliveries/', guarded((request) => withPage(() => oneDelivery('/deliveries/', (record) => html(renderDeliveryPage(record)))(request))())],
  ];

  /** Only hooks read a body: any other body is refused before a byte of it is read. */
  function page(request: Request, path: string, table: ReadonlyMap<string, (request: Request) => Response | Promise<Response>>): Response | Promise<Response> {
    if (hasBody(request)) return refuse(request, 413, { error: 'this route takes no body' });
    const action = table === pages ? actions.get(path) : undefined;
    if (action) return request.method === 'POST' ? action(request) : json(405, { error: 'use POST' }, { allow: 'POST' });
    const answer = table.get(path) ?? (table === pages ? prefixed.find(([prefix]) => path.startsWith(prefix) && path.length > prefix.length)?.[1] : undefined);
    if (!answer) return json(404, { error: 'not found' });
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: 'use GET' }, { allow: 'GET, HEAD' });
    return answer(request);
  }

  const publicPages = new Map([['/healthz', healthz]]);
  const surface = (route: (request: Request, path: string, peer: (() => string | undefined) | undefined) => Response | Promise<Response>): HttpApp => ({
    async handle(request, peer) {
      try {
        return await route(request, requestPath(request), peer);
      } catch (error) {
        log.error('request failed', { path: requestPath(request).slice(0, 140), error: error instanceof Error ? error.message : String(error) });
        return refuse(request, 500, { error: 'internal error' });
      }
    },
  });
  const webhookPage = (request: Request, path: string) => {
    if (!publicPages.has(path)) deps.unknownRoute(path);
    return page(request, path, publicPages);
  };
  return {
    webhook: surface((request, path, peer) => (path.startsWith('/hook/') ? hook(request, path, peer) : webhookPage(request, path))),
    admin: withAdminHeaders(surface((request, path) => page(request, path, pages))),
  };
}
