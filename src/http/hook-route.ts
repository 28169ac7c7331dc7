/**
 * `/hook/*`: the one route that reads a body. It finds the provider, bounds what the request may cost (the
 * request gate, the body's size, the shared body budget, the deadline) and hands the exact bytes to the pipeline.
 */
import { NotFoundError } from 'elysia';
import type { BlockList } from 'node:net';
import { handleWebhook, type RouteTable, type WebhookDeps } from '../pipeline/index.ts';
import type { DeliveryInfo } from '../provider-kit/index.ts';
import type { Metrics } from '../observe/index.ts';
import { json, methodNotAllowed, refuse } from './answers.ts';
import type { BodyBudget } from './body-budget.ts';
import { clientAddress } from './client-address.ts';
import { readBody, type BodyLimits, type BodyRefusal } from './read-body.ts';
import { gated, type RequestGate } from './request-gate.ts';
import { createSenderRateLimiter } from './sender-rate-limit.ts';

export interface HookRouteDeps {
  /** Providers by route; may change between requests. */
  routes: Pick<RouteTable, 'get'>;
  trustedProxies?: BlockList;
  webhook: WebhookDeps;
  metrics: Metrics;
  gate: RequestGate;
  body: BodyLimits;
  /** The `server.bodyTimeout` the refusal names. */
  bodyTimeoutMs: number;
  /** The TCP peer of a request, when the listener gave one. */
  peer(request: Request): string | undefined;
}

type Refusal = { status: number; reason: string; headers?: Record<string, string> };

function bodyRefusals(deps: HookRouteDeps, retryAfter: Record<string, string>): Record<BodyRefusal, Refusal> {
  return {
    'too-large': { status: 413, reason: `body larger than ${deps.body.maxBytes} bytes` },
    'over-budget': { status: 503, reason: 'too many request bodies being read', headers: retryAfter },
    timeout: { status: 408, reason: `body not received within ${deps.bodyTimeoutMs} ms` },
    // Nobody is left to read this answer; it is counted as a malformed request.
    aborted: { status: 400, reason: 'connection closed before the body was complete' },
  };
}

/**
 * The handler of `/hook/*` (Elysia with `parse: 'none'`: the body is read here, within its bounds).
 * @example app.all('/hook/*', hookRoute(deps), { parse: 'none' })
 */
export function hookRoute(deps: HookRouteDeps) {
  const retryAfter = { 'retry-after': String(deps.webhook.retryAfterSeconds) };
  const refusals = bodyRefusals(deps, retryAfter);
  const limiter = createSenderRateLimiter();
  return async ({ request, path }: { request: Request; path: string }): Promise<Response> => {
    // Looked up once: the delivery keeps this provider even if the routes change while its body is read.
    const provider = deps.routes.get(path);
    if (!provider) throw new NotFoundError(`no provider at ${path.slice(0, 140)}`);
    if (request.method !== 'POST') return methodNotAllowed(request, 'POST');
    const started = performance.now();
    const refused = (status: number, reason: string, headers?: Record<string, string>, close = false, info?: DeliveryInfo) => {
      deps.webhook.reporter.rejected(provider, status, reason, info);
      // Whatever of the body is left unread, closing stops the sender sending it.
      return close ? json(status, { error: reason }, { ...headers, connection: 'close' }) : refuse(request, status, { error: reason }, headers);
    };
    const client = () => clientAddress(deps.peer(request), request.headers.get('x-forwarded-for'), deps.trustedProxies);
    try {
      if (provider.rateLimit) {
        // Before the body is read or a slot taken: a sender over its limit costs almost nothing.
        const verdict = limiter.take(provider.name, provider.rateLimit, client(), deps.webhook.now());
        if (!verdict.ok) {
          const reason = `too many deliveries from this address: at most ${provider.rateLimit.perSecond} per second (burst ${provider.rateLimit.burst}) for this provider`;
          // With what the headers claim (event, delivery id), so the refused delivery can be found in the log.
          return refused(429, reason, { 'retry-after': String(verdict.retryAfterSeconds) }, false, provider.codec.describe(request.headers));
        }
      }
      return await gated(deps.gate, () => refused(503, 'too many requests in flight', retryAfter), async () => {
        if (!deps.webhook.accepting()) return refused(503, 'shutting down', retryAfter);
        const read = await readBody(request, deps.body);
        if (!read.ok) return refused(refusals[read.refusal].status, refusals[read.refusal].reason, refusals[read.refusal].headers, true);
        // The sender's address matters only to a provider that restricts it.
        const source = provider.allowedSources ? client() : undefined;
        const result = await handleWebhook(provider, { body: read.body, headers: request.headers, ...(source !== undefined ? { source } : {}) }, deps.webhook);
        return json(result.status, result.body, result.headers);
      });
    } finally {
      deps.metrics.webhookDuration.observe({ provider: provider.name }, (performance.now() - started) / 1000);
    }
  };
}
