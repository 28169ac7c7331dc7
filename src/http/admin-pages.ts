/**
 * The status page (`/`, refreshing itself unless `?refresh=off`) and a delivery's drill-down page
 * (`/deliveries/<id>`); both 404 when `admin.statusPage` is false.
 */
import { type AnyElysia, Elysia, t } from 'elysia';
import type { DeliveryLog } from '../store/index.ts';
import { deliveryAt } from './admin-api.ts';
import { html, json } from './answers.ts';
import { renderDeliveryPage } from './delivery-page.ts';
import { strictQuery } from './delivery-query.ts';
import { getOnly } from './get-only.ts';

export interface AdminPagesDeps {
  deliveries: DeliveryLog;
  /** The status page; `refresh` false when the reader asked it to stop refreshing. */
  statusPage(refresh: boolean): string;
  /** Whether there is a page at all (read per request: a reload may change it). */
  enabled(): boolean;
}

const pageQuery = strictQuery('parameter', {
  refresh: t.Optional(t.Union([t.Literal('on'), t.Literal('off')], { error: 'refresh is on or off', description: 'off: the page does not refresh itself' })),
});

/** @example new Elysia().use(adminPages(deps)) */
export function adminPages(deps: AdminPagesDeps) {
  const off = () => json(404, { error: 'not found' });
  let app: AnyElysia = new Elysia();
  app = getOnly(app, '/', ({ query }) => (deps.enabled() ? html(deps.statusPage(query.refresh !== 'off')) : off()), { query: pageQuery, detail: { summary: 'The status page (HTML)' } });
  return getOnly(app, '/deliveries/*', ({ path }) => {
    if (!deps.enabled()) return off();
    const record = deliveryAt(deps.deliveries, path, '/deliveries/');
    return record instanceof Response ? record : html(renderDeliveryPage(record));
  }, { query: strictQuery('parameter', {}), detail: { summary: 'One delivery (HTML)' } });
}
