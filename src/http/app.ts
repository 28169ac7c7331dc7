/**
 * The HTTP surface: two Elysia apps, each behind fluxgate's own listener — the webhook listener (`/hook/*` and
 * `/healthz`) and the admin listener (status page, API, metrics, probes). This file wires the pieces, each in
 * its own file: the hook route, the probes, the admin API and pages, and the hooks every request passes (bodies
 * refused where none is read, the admin token, unknown routes counted, error answers). The decisions about a
 * webhook stay in `pipeline/handle-webhook.ts`; what this layer needs arrives in `HttpDeps`.
 */
import { Elysia } from 'elysia';
import type { BlockList } from 'node:net';
import type { Logger } from '../core/index.ts';
import type { Metrics } from '../observe/index.ts';
import type { RouteTable, WebhookDeps } from '../pipeline/index.ts';
import type { DeliveryLog, FailureRecord } from '../store/index.ts';
import { adminApi } from './admin-api.ts';
import { adminBearer } from './admin-bearer.ts';
import { withAdminHeaders } from './admin-headers.ts';
import { adminElsewhere } from './admin-elsewhere.ts';
import { adminPages } from './admin-pages.ts';
import { createBodyBudget, type BodyBudget } from './body-budget.ts';
import { createPeers, ELYSIA_CONFIG, elysiaSurface, type HttpApp, type Peers } from './elysia-surface.ts';
import { errorAnswers } from './error-answers.ts';
import { getOnly } from './get-only.ts';
import { hookRoute } from './hook-route.ts';
import { healthz, probes, type Readiness } from './probes.ts';
import type { Timers } from './read-body.ts';
import { refuseBodies, refuseBody } from './refuse-bodies.ts';
import { relayRoutes } from './relay-routes.ts';
import type { Edge } from '../relay/index.ts';
import { createRequestGate, type RequestGate } from './request-gate.ts';
import { unknownRoutes } from './unknown-routes.ts';

export type { HttpApp } from './elysia-surface.ts';
export type { Readiness } from './probes.ts';

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
  /** A relay's edge: its routes on the webhook listener (/relay/v1/*). */
  relay?: Pick<Edge, 'authenticate' | 'open' | 'acknowledge'>;
}

/** The two listeners' apps: webhooks (public) and the admin surface (loopback unless opened on purpose). */
export interface HttpApps {
  /** `POST /hook/*` and `GET /healthz` (for load balancers); nothing else. */
  webhook: HttpApp;
  /** `/`, `/api/deliveries`, `/api/failures`, `/api/openapi`, `/metrics`, `/healthz`, `/readyz`. */
  admin: HttpApp;
}

/** What both apps share: the bounds on what requests may hold at once. */
interface Shared {
  budget: BodyBudget;
  gate: RequestGate;
  peers: Peers;
  /** server.maxBodySize, never above the whole budget. */
  maxBodySize: number;
}

/** An acknowledgement is one event id: its body is never larger. */
const RELAY_ACK_BYTES = 1024;

/** Gauges of what the limits bound, evaluated when /metrics is scraped. */
function limitMetrics(metrics: Metrics, budget: BodyBudget, gate: RequestGate): void {
  metrics.gaugeOf('fluxgate_http_body_bytes_in_flight', 'Bytes of request bodies being read (bounded by server.maxBodyBytesInFlight).', () => budget.inUse());
  metrics.gaugeOf('fluxgate_http_requests_in_flight', 'Requests waiting for a body or a readiness check (bounded by server.maxConcurrentRequests).', () => gate.inFlight());
}

function webhookApp(deps: HttpDeps, shared: Shared) {
  const { limits } = deps;
  // A body over the limit is read on and thrown away up to this size, so its sender reads the 413 (see
  // read-body.ts): at most a quarter of the budget, which a drain holds as a read would.
  const drainBytes = Math.max(shared.maxBodySize, Math.floor(limits.maxBodyBytesInFlight / 4));
  const hook = hookRoute({
    routes: deps.routes,
    ...(deps.trustedProxies ? { trustedProxies: deps.trustedProxies } : {}),
    webhook: deps.webhook,
    metrics: deps.metrics,
    gate: shared.gate,
    body: { maxBytes: shared.maxBodySize, drainBytes, budget: shared.budget, timeoutMs: limits.bodyTimeout, timers: deps.timers },
    bodyTimeoutMs: limits.bodyTimeout,
    peer: (request) => shared.peers.of(request),
  });
  const app = new Elysia(ELYSIA_CONFIG).use(unknownRoutes(deps.unknownRoute)).use(errorAnswers(deps.log)).use(adminElsewhere()).all('/hook/*', hook, { parse: 'none' });
  const relayed = deps.relay ? relayRoutes(app, { edge: deps.relay, untime: (request) => shared.peers.untime(request), gate: shared.gate, body: { maxBytes: RELAY_ACK_BYTES, drainBytes: RELAY_ACK_BYTES, budget: shared.budget, timeoutMs: limits.bodyTimeout, timers: deps.timers }, retryAfterSeconds: deps.webhook.retryAfterSeconds }) : app;
  return getOnly(relayed, '/healthz', healthz, { beforeHandle: refuseBody });
}

function adminApp(deps: HttpDeps, shared: Shared) {
  const token = () => deps.admin().token;
  // The page, its drill-downs and the API want the token; the probes and the metrics never do.
  const guarded = (path: string) => path === '/' || path.startsWith('/api/') || path.startsWith('/deliveries/');
  return new Elysia(ELYSIA_CONFIG)
    .use(refuseBodies())
    .use(adminBearer(token, guarded))
    .use(errorAnswers(deps.log))
    .use(probes({ accepting: deps.accepting, readiness: deps.readiness, metrics: deps.metrics, gate: shared.gate, retryAfterSeconds: deps.webhook.retryAfterSeconds, adminToken: token }))
    .use(adminApi({ deliveries: deps.deliveries, now: deps.now, failures: deps.failures }))
    .use(adminPages({ deliveries: deps.deliveries, statusPage: deps.statusPage, enabled: () => deps.admin().statusPage }));
}

/**
 * @example
 * const apps = createHttpApps(deps);
 * Bun.serve({ fetch: (request) => apps.webhook.handle(request) });
 */
export function createHttpApps(deps: HttpDeps): HttpApps {
  const { limits, log } = deps;
  // A body larger than the whole budget could never be read; such a body is refused as too large.
  const maxBodySize = Math.min(limits.maxBodySize, limits.maxBodyBytesInFlight);
  if (maxBodySize < limits.maxBodySize) {
    log.warn('server.maxBodyBytesInFlight is smaller than server.maxBodySize: bodies above it are refused with 413', { maxBodySize, maxBodyBytesInFlight: limits.maxBodyBytesInFlight });
  }
  const shared: Shared = { budget: createBodyBudget(limits.maxBodyBytesInFlight), gate: createRequestGate(limits.maxConcurrentRequests), peers: createPeers(), maxBodySize };
  limitMetrics(deps.metrics, shared.budget, shared.gate);
  return {
    webhook: elysiaSurface(webhookApp(deps, shared), shared.peers, log),
    admin: withAdminHeaders(elysiaSurface(adminApp(deps, shared), shared.peers, log)),
  };
}
