/**
 * One delivery at `/deliveries/<id>`: what came in and, per object, the state its patch reached, the attempts
 * it took, the last error and the time from acceptance to the API server's answer; with following, how far the
 * pushed commit got on each object and when. Refreshes until the delivery's patches and follows have all ended.
 */
import type { DeliveryRecord } from '../store/index.ts';
import { followedSection, stillFollowed } from './followed-section.ts';
import { escapeHtml as e, page, table } from './html.ts';

const REFRESH_SECONDS = 2;

export function renderDeliveryPage(record: DeliveryRecord): string {
  const facts: [string, string | number | undefined][] = [
    ['delivery', record.deliveryId ?? (record.ticket !== undefined ? `fluxgate-${record.ticket}` : undefined)],
    ['received', record.receivedAt],
    ['provider', `${record.provider} (${record.type})`],
    ['event', record.event],
    ['answer', `${record.status} ${record.outcome}`],
    ['state', record.state],
    ['reason', record.reason],
    ['repository', record.repository],
    ['ref', record.ref],
    ['commit', record.commit],
    ['targets', record.targets.join(', ') || undefined],
  ];
  const rows = facts.filter(([, value]) => value !== undefined && value !== '').map(([name, value]) => [e(name), name === 'state' || name === 'answer' ? `<b class="${e(name === 'state' ? value : record.outcome)}">${e(value)}</b>` : e(value)]);
  const objects = record.objects.map((object) => [
    // With clusters:, the same object in each cluster is its own row: named with its cluster.
    e(object.cluster !== undefined ? `${object.cluster}: ${object.object}` : object.object),
    `<b class="${e(object.state)}">${e(object.state)}</b>`,
    object.attempts !== undefined ? String(object.attempts) : '',
    object.latencyMs !== undefined ? `${object.latencyMs} ms` : '',
    e(object.detail ?? ''),
  ]);
  const settled = record.state !== 'pending' && !(record.followed ?? []).some(stillFollowed);
  return page(
    `fluxgate delivery ${record.deliveryId ?? ''}`,
    `<p><a href="/">← status</a></p>
<h1>Delivery</h1>${table(['', ''], rows)}
<h2>Objects</h2>${table(['object', 'state', 'attempts', 'accepted → answered', 'last error / detail'], objects)}${followedSection(record)}`,
    settled ? undefined : REFRESH_SECONDS,
  );
}
