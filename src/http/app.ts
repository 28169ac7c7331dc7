/**
 * The HTTP surface: adapts requests to the pipeline and renders answers. Holds no state of its own; what it
 * needs arrives in `HttpDeps`.
 */
import { Elysia } from 'elysia';
import type { ProviderRuntime } from '../pipeline/compile.ts';
import { handleWebhook, type WebhookAnswer, type WebhookDeps } from '../pipeline/handle-webhook.ts';
import type { DeliveryLog } from '../observe/delivery-log.ts';
import type { Logger } from '../observe/log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { readLimitedBody } from './read-body.ts';

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface HttpDeps {
  providers: ReadonlyMap<string, ProviderRuntime>;
  webhook: WebhookDeps;
  maxBodySize: number;
  metrics: Metrics;
  log: Logger;
  deliveries: DeliveryLog;
  /** False once shutdown has begun: hooks answer 503. */
  accepting(): boolean;
  readiness(): Promise<Readiness>;
  statusPage(): string;
}

const jsonHeaders = { 'content-type': 'application/json' };

function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...jsonHeaders, ...headers } : jsonHeaders });
}

function answer(result: WebhookAnswer): Response {
  return json(result.status, result.body, result.headers);
}

export function createHttpApp(deps: HttpDeps) {
  const { providers, metrics } = deps;

  async function hook(request: Request, name: string): Promise<Response> {
    const provider = providers.get(name);
    if (!provider) return json(404, { error: `no provider named "${name}"` });
    if (request.method !== 'POST') return json(405, { error: 'use POST' }, { allow: 'POST' });
    const started = performance.now();
    try {
      if (!deps.accepting()) {
        deps.webhook.reporter.rejected(provider, 503, 'shutting down');
        return json(503, { error: 'shutting down' }, { 'retry-after': '5' });
      }
      const read = await readLimitedBody(request, deps.maxBodySize);
      if (!read.ok) {
        deps.webhook.reporter.rejected(provider, 413, `body larger than ${deps.maxBodySize} bytes`);
        // Closing tells the sender to stop streaming the rest of an oversized body.
        return json(413, { error: `body larger than ${deps.maxBodySize} bytes` }, { connection: 'close' });
      }
      return answer(handleWebhook(provider, { body: read.body, headers: request.headers }, deps.webhook));
    } finally {
      metrics.webhookDuration.observe((performance.now() - started) / 1000, [provider.name]);
    }
  }

  return new Elysia()
    .all('/hook/:provider', ({ request, params }) => hook(request, params.provider), { parse: 'none' })
    .get('/healthz', () => json(200, { status: 'ok' }))
    .get('/readyz', async () => {
      if (!deps.accepting()) return json(503, { ready: false, reason: 'shutting down' });
      const readiness = await deps.readiness();
      return json(readiness.ready ? 200 : 503, readiness);
    })
    .get('/metrics', () => new Response(metrics.registry.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }))
    .get('/api/deliveries', () => json(200, { deliveries: deps.deliveries.recent() }))
    .get('/', () => new Response(deps.statusPage(), { headers: { 'content-type': 'text/html; charset=utf-8' } }))
    .onError(({ code, error, request }) => {
      if (code === 'NOT_FOUND') return json(404, { error: 'not found' });
      deps.log.error('request failed', { path: new URL(request.url).pathname, error: error instanceof Error ? error.message : String(error) });
      return json(500, { error: 'internal error' });
    });
}

export type HttpApp = ReturnType<typeof createHttpApp>;
