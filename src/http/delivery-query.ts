/**
 * The filters of `GET /api/deliveries`: `provider`, `outcome`, `state`, `repository` (a substring) and `since`
 * (an RFC 3339 time, or a duration back from now such as `15m`). Anything else is a 400 naming what is allowed.
 */
import { durationMs } from '../config/index.ts';
import type { DeliveryFilter } from '../store/index.ts';

const KEYS = ['provider', 'outcome', 'state', 'repository', 'since'] as const;
/** Long enough for any repository URL; a longer value is a mistake or an attack, not a filter. */
const MAX_VALUE = 256;

/**
 * @example
 * deliveryFilter(new URLSearchParams('provider=github&since=15m'), Date.now()); // { filter: { provider: 'github', since: … } }
 */
export function deliveryFilter(query: URLSearchParams, now: number): { filter: DeliveryFilter } | { error: string } {
  const filter: DeliveryFilter = {};
  for (const [key, value] of query) {
    if (!(KEYS as readonly string[]).includes(key)) return { error: `unknown filter "${key.slice(0, 40)}": use ${KEYS.join(', ')}` };
    if (value.length > MAX_VALUE) return { error: `${key} is longer than ${MAX_VALUE} characters` };
    if (key === 'since') {
      const at = /^[0-9]+(ms|s|m|h)$/.test(value) ? now - durationMs(value) : Date.parse(value);
      if (Number.isNaN(at)) return { error: 'since is an RFC 3339 time (2026-01-31T12:00:00Z) or a duration back from now (15m, 2h)' };
      filter.since = at;
    } else {
      filter[key as Exclude<(typeof KEYS)[number], 'since'>] = value;
    }
  }
  return { filter };
}
