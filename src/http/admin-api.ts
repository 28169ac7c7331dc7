/**
 * The admin API: the recent deliveries and the failures kept for a retry, every query parameter validated by
 * its `t` schema (a value or a parameter the schema does not allow is a 400 naming what is allowed), and the
 * OpenAPI document of it all at `/api/openapi`. Behind the admin token when one is set (admin-bearer.ts).
 */
import { type AnyElysia, Elysia, t } from 'elysia';
import type { DeliveryLog, DeliveryRecord, FailureRecord } from '../store/index.ts';
import { json, methodNotAllowed } from './answers.ts';
import { deliveriesQuery, deliveryFilter, strictQuery } from './delivery-query.ts';
import { getOnly } from './get-only.ts';
import { openapiDocument } from './openapi-document.ts';
import { failureView } from './state-section.ts';

export interface AdminApiDeps {
  deliveries: DeliveryLog;
  now(): number;
  /** The failures the journal keeps, and owing them again (all, or those seqs); returns how many. */
  failures: { list(): readonly FailureRecord[]; retry(seqs?: readonly number[]): number };
}

/** The delivery a path names after `prefix` (percent-decoded), or the answer when there is none. */
export function deliveryAt(deliveries: DeliveryLog, path: string, prefix: string): DeliveryRecord | Response {
  let id: string;
  try {
    id = decodeURIComponent(path.slice(prefix.length));
  } catch {
    return json(400, { error: 'the delivery id in the path is not valid percent-encoding' });
  }
  return deliveries.find(id) ?? json(404, { error: `no recent delivery ${id.slice(0, 140)}` });
}

const SEQ = 'seq: the number of a failure from /api/failures';
const seqQuery = strictQuery('parameter', {
  seq: t.Optional(t.Array(t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, error: SEQ }), { error: SEQ, description: 'the failures to retry (repeatable); none: all' })),
});

/**
 * Actions change state: POST without a body, never from another site's page (a browser says where a request
 * comes from in Sec-Fetch-Site; tools send none). A form on the status page is sent back to it.
 */
function retryFailures(deps: AdminApiDeps) {
  return ({ request, query }: { request: Request; query: { seq?: number[] } }) => {
    const site = request.headers.get('sec-fetch-site');
    if (site !== null && site !== 'same-origin' && site !== 'none') return json(403, { error: 'actions are taken from the status page or a client, not from another site' });
    const retried = deps.failures.retry(query.seq?.length ? query.seq : undefined);
    if ((request.headers.get('accept') ?? '').includes('text/html')) return new Response(null, { status: 303, headers: { location: '/' } });
    return json(200, { retried });
  };
}

/** @example new Elysia().use(adminApi(deps)) */
export function adminApi(deps: AdminApiDeps) {
  let app: AnyElysia = new Elysia();
  app = getOnly(app, '/api/deliveries', ({ query }) => {
    const parsed = deliveryFilter(query, deps.now());
    return 'error' in parsed ? json(400, { error: parsed.error }) : json(200, { deliveries: deps.deliveries.recent(parsed.filter) });
  }, { query: deliveriesQuery, detail: { summary: 'The recent deliveries, newest first, filtered' } });
  app = getOnly(app, '/api/deliveries/*', ({ path }) => {
    const record = deliveryAt(deps.deliveries, path, '/api/deliveries/');
    return record instanceof Response ? record : json(200, record);
  }, { query: strictQuery('parameter', {}), detail: { summary: 'One delivery, by its provider\'s delivery id (or fluxgate-<n>)' } });
  app = getOnly(app, '/api/failures', () => json(200, { failures: deps.failures.list().map(failureView) }), {
    query: strictQuery('parameter', {}),
    detail: { summary: 'The failed reconcile requests kept for a retry' },
  });
  app = app
    .post('/api/failures/retry', retryFailures(deps) as never, { query: seqQuery, parse: 'none', detail: { summary: 'Owe failed reconcile requests again (POST, no body, not from another site)' } })
    .all('/api/failures/retry', ({ request }) => methodNotAllowed(request, 'POST'), { detail: { hide: true } });
  return openapiDocument(app);
}
