/**
 * The filters of `GET /api/deliveries`, as the schema Elysia validates the query with: `provider`, `outcome`,
 * `state`, `repository` (a substring) and `since` (an RFC 3339 time, or a duration back from now such as `15m`).
 * Anything else is a 400 naming what is allowed.
 */
import { t } from 'elysia';
import { durationMs } from '../config/index.ts';
import { DELIVERY_OUTCOMES, DELIVERY_STATES, type DeliveryFilter } from '../store/index.ts';

/** Long enough for any repository URL; a longer value is a mistake or an attack, not a filter. */
const MAX_VALUE = 256;
const SINCE = 'since is an RFC 3339 time (2026-01-31T12:00:00Z) or a duration back from now (15m, 2h)';

const text = (name: string, description: string) => t.String({ maxLength: MAX_VALUE, description, error: `${name} is longer than ${MAX_VALUE} characters` });
const oneOf = (name: string, values: readonly string[]) => t.Union(values.map((value) => t.Literal(value)), { error: `${name} is one of ${values.join(', ')}` });

/**
 * A query schema that refuses any parameter it does not list, naming the parameter and those it lists (the
 * message is built from what was sent: Elysia hands it to `error`).
 */
export function strictQuery<Properties extends Parameters<typeof t.Object>[0]>(noun: string, properties: Properties) {
  const names = Object.keys(properties);
  const error = ({ found }: { found?: unknown }) => {
    const unknown = Object.keys(typeof found === 'object' && found !== null ? found : {}).find((key) => !names.includes(key));
    const allowed = names.length > 0 ? `use ${names.join(', ')}` : 'this route takes none';
    return unknown === undefined ? `the query is not valid: ${allowed}` : `unknown ${noun} "${unknown.slice(0, 40)}": ${allowed}`;
  };
  return t.Object(properties, { additionalProperties: false, error });
}

export const deliveriesQuery = strictQuery('filter', {
  provider: t.Optional(text('provider', 'the provider\'s name')),
  outcome: t.Optional(oneOf('outcome', DELIVERY_OUTCOMES)),
  state: t.Optional(oneOf('state', DELIVERY_STATES)),
  repository: t.Optional(text('repository', 'a substring of the repository (or image), any case')),
  since: t.Optional(t.String({ maxLength: MAX_VALUE, description: SINCE, error: SINCE })),
});

export type DeliveriesQuery = (typeof deliveriesQuery)['static'];

/**
 * The filter a validated query asks for; `since` is read against `now`.
 * @example deliveryFilter({ provider: 'github', since: '15m' }, Date.now()); // { filter: { provider: 'github', since: … } }
 */
export function deliveryFilter(query: DeliveriesQuery, now: number): { filter: DeliveryFilter } | { error: string } {
  const { since, ...filter } = query;
  if (since === undefined) return { filter };
  const at = /^[0-9]+(ms|s|m|h)$/.test(since) ? now - durationMs(since) : Date.parse(since);
  return Number.isNaN(at) ? { error: SINCE } : { filter: { ...filter, since: at } };
}
