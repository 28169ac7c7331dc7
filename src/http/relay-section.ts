/**
 * The relay on the status page: on an edge, each subscriber with its streams, what it acknowledged and what it has
 * not taken yet; on an agent, its upstream connection, the last event and the lag.
 */
import type { SubscriberStatus, UpstreamStatus } from '../relay/index.ts';
import { escapeHtml as e, table } from './html.ts';

export interface RelayView {
  subscribers?: readonly SubscriberStatus[];
  /** Events kept for subscribers (relay.retention). */
  store?: { events: number; bytes: number };
  upstream?: UpstreamStatus;
}

const time = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

export function relaySection(view: RelayView): string {
  const parts: string[] = [];
  if (view.subscribers) {
    const rows = view.subscribers.map((subscriber) => [
      e(subscriber.name),
      subscriber.streams > 0 ? `<span class="accepted">${subscriber.streams} connected</span>` : '<span class="problem">not connected</span>',
      e(subscriber.acknowledged || '—'),
      subscriber.pending > 0 ? `<b class="pending">${subscriber.pending}</b>` : '0',
    ]);
    const kept = view.store ? `<p>${view.store.events} events kept (${(view.store.bytes / 1024).toFixed(1)} KiB)</p>` : '';
    parts.push(`\n<h2>Relay subscribers</h2>${kept}${table(['subscriber', 'agents', 'acknowledged', 'not yet taken'], rows)}`);
  }
  const upstream = view.upstream;
  if (upstream) {
    const state = upstream.state === 'connected' ? `<span class="accepted">connected</span> as ${e(upstream.subscriber ?? '')}` : `<span class="problem">${e(upstream.state)}</span>${upstream.error ? `: ${e(upstream.error)}` : ''}`;
    const rows: [string, string][] = [
      ['edge', e(upstream.url)],
      ['connection', `${state} since ${e(time(upstream.since))}`],
      ['last event', upstream.lastEvent ? `${e(upstream.lastEvent.id)}, received by the edge ${e(time(upstream.lastEvent.receivedAt))}, taken ${e(time(upstream.lastEvent.takenAt))}` : '—'],
      ['lag', upstream.lagSeconds !== undefined ? `${upstream.lagSeconds.toFixed(3)} s` : '—'],
      ['acknowledged', e(upstream.acknowledged ?? '—')],
      ['gaps', upstream.lastGap ? `<b class="problem">${upstream.gaps}</b>, last ${e(time(upstream.lastGap.at))}: ${e(upstream.lastGap.reason)}` : '0'],
    ];
    parts.push(`\n<h2>Upstream</h2>${table(['', ''], rows)}`);
  }
  return parts.join('');
}
