/**
 * The admin listener's probes and metrics: `/healthz` (the process answers), `/readyz` (it can do its work) and
 * `/metrics` (Prometheus text from prom-client's registry). None needs the admin token: kubelet and Prometheus
 * carry none; the details of readiness (URLs, error text) are shown only to a reader with the token.
 */
import { type AnyElysia, Elysia } from 'elysia';
import type { Metrics } from '../observe/index.ts';
import { type Admission, admission } from './admin-bearer.ts';
import { json } from './answers.ts';
import { getOnly } from './get-only.ts';
import { gated, type RequestGate } from './request-gate.ts';

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
  /** An agent: its connection to the edge (its error is a detail), the last event and the lag. */
  upstream?: { state: string; error?: string; lastEventId?: string; lastEventAt?: string; lagSeconds?: number; gaps: number };
}

/** Readiness without its details: what a reader without the admin token sees. */
function withoutDetail({ detail: _detail, clusters, discovery, upstream, ...readiness }: Readiness): Readiness {
  const { error: _error, ...shownUpstream } = upstream ?? { state: '', gaps: 0 };
  return {
    ...readiness,
    ...(upstream ? { upstream: shownUpstream } : {}),
    ...(clusters ? { clusters: Object.fromEntries(Object.entries(clusters).map(([name, cluster]) => [name, withoutDetail(cluster)])) } : {}),
    ...(discovery ? { discovery: discovery.map(({ problem: _problem, ...watch }) => watch) } : {}),
  };
}

export interface ProbeDeps {
  accepting(): boolean;
  readiness(): Promise<Readiness>;
  metrics: Metrics;
  gate: RequestGate;
  retryAfterSeconds: number;
  adminToken(): string | undefined;
}

/** @example healthz() // 200 {"status":"ok"} */
export const healthz = () => json(200, { status: 'ok' });

/** @example new Elysia().use(probes(deps)) */
export function probes(deps: ProbeDeps) {
  const readyz = ({ request }: { request: Request }): Response | Promise<Response> => {
    if (!deps.accepting()) return json(503, { ready: false, reason: 'shutting-down' });
    // A readiness check may wait for the API server: it counts against the cap like a hook.
    const busy = () => json(503, { ready: false, reason: 'busy' }, { 'retry-after': String(deps.retryAfterSeconds) });
    return gated(deps.gate, busy, async () => {
      const readiness = await deps.readiness();
      const seen: Admission = admission(request, deps.adminToken());
      return json(readiness.ready ? 200 : 503, seen === 'yes' ? readiness : withoutDetail(readiness));
    });
  };
  const metrics = async () => {
    const { contentType, body } = await deps.metrics.scrape();
    return new Response(body, { headers: { 'content-type': contentType } });
  };
  let app: AnyElysia = new Elysia();
  app = getOnly(app, '/healthz', healthz, { detail: { summary: 'Liveness: the process answers' } });
  app = getOnly(app, '/readyz', readyz, { detail: { summary: 'Readiness: 200 when fluxgate can do its work, 503 with a reason when not' } });
  return getOnly(app, '/metrics', metrics, { detail: { summary: 'Prometheus metrics (text format)' } });
}
