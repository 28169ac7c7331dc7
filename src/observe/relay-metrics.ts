/**
 * The relay's metrics, registered only where a relay runs: on an edge, per subscriber (names from the config, so
 * the series are bounded); on an agent, of its one upstream. Gauges are read from the edge or agent when scraped.
 */
import { Counter, Gauge } from './prom.ts';
import type { Metrics } from './metrics.ts';

export interface EdgeMetrics {
  published: Counter<'subscriber'>;
  delivered: Counter<'subscriber'>;
  acknowledged: Counter<'subscriber'>;
  gaps: Counter<'subscriber'>;
  ended: Counter<'subscriber' | 'reason'>;
  refused: Counter<'reason'>;
}

export interface AgentMetrics {
  events: Counter<'outcome'>;
  gaps: Counter;
  disconnects: Counter<'reason'>;
  ackFailures: Counter;
}

/** What the gauges read when scraped. */
export interface EdgeGauges {
  subscribers(): readonly { name: string; streams: number; pending: number }[];
  store(): { events: number; bytes: number };
}

/**
 * @example
 * const edge = edgeMetrics(metrics, { subscribers: () => edge.status(), store: () => store.relay.size() });
 * edge.delivered.inc({ subscriber: 'prod' }, 3);
 */
export function edgeMetrics(metrics: Metrics, gauges: EdgeGauges): EdgeMetrics {
  const registers = [metrics.registry];
  const perSubscriber = (name: string, help: string) => new Counter({ name, help, labelNames: ['subscriber'], registers });
  const bySubscriber = (name: string, help: string, read: (status: { streams: number; pending: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscriber'],
      registers,
      collect() {
        this.reset();
        for (const status of gauges.subscribers()) this.set({ subscriber: status.name }, read(status));
      },
    });
  bySubscriber('fluxgate_relay_connected_agents', 'Streams open per relay subscriber (agents connected).', (status) => status.streams);
  bySubscriber('fluxgate_relay_subscriber_lag_events', 'Events kept for a subscriber that it has not acknowledged.', (status) => status.pending);
  metrics.gaugeOf('fluxgate_relay_store_events', 'Events the relay keeps for its subscribers (relay.retention).', () => gauges.store().events);
  metrics.gaugeOf('fluxgate_relay_store_bytes', 'Bytes of the events the relay keeps (as stored).', () => gauges.store().bytes);
  const edge: EdgeMetrics = {
    published: perSubscriber('fluxgate_relay_events_published_total', 'Events kept for a subscriber (its filter allowed them).'),
    delivered: perSubscriber('fluxgate_relay_events_delivered_total', 'Events written to a subscriber\'s streams.'),
    acknowledged: perSubscriber('fluxgate_relay_events_acknowledged_total', 'Events a subscriber\'s agent acknowledged (its journal has them).'),
    gaps: perSubscriber('fluxgate_relay_gaps_total', 'Streams that began by telling the agent events it had not acknowledged are gone.'),
    ended: new Counter({ name: 'fluxgate_relay_streams_ended_total', help: 'Streams ended, by reason (closed, stalled, removed, shutdown).', labelNames: ['subscriber', 'reason'], registers }),
    refused: new Counter({ name: 'fluxgate_relay_requests_refused_total', help: 'Relay requests refused, by reason.', labelNames: ['reason'], registers }),
  };
  for (const reason of ['unauthorized', 'too_many_streams', 'shutting_down', 'bad_request']) edge.refused.inc({ reason }, 0);
  return edge;
}

/**
 * @example
 * const upstream = agentMetrics(metrics, () => agent.status());
 * upstream.events.inc({ outcome: 'accepted' });
 */
export function agentMetrics(metrics: Metrics, status: () => { state: string; lagSeconds?: number }): AgentMetrics {
  const registers = [metrics.registry];
  metrics.gaugeOf('fluxgate_upstream_connected', '1 while the agent\'s stream from its edge is open.', () => (status().state === 'connected' ? 1 : 0));
  metrics.gaugeOf('fluxgate_upstream_lag_seconds', 'For the last relayed event: from the edge receiving it to this agent\'s journal having it.', () => status().lagSeconds ?? 0);
  const agent: AgentMetrics = {
    events: new Counter({ name: 'fluxgate_upstream_events_total', help: 'Relayed events taken, by outcome (accepted, duplicate, ignored, unreadable).', labelNames: ['outcome'], registers }),
    gaps: new Counter({ name: 'fluxgate_upstream_gaps_total', help: 'Times the edge said events were lost (a reconcile of everything watched followed).', registers }),
    disconnects: new Counter({ name: 'fluxgate_upstream_disconnects_total', help: 'Connections to the edge that ended, by reason.', labelNames: ['reason'], registers }),
    ackFailures: new Counter({ name: 'fluxgate_upstream_ack_failures_total', help: 'Acknowledgements the edge did not take (the next one covers them).', registers }),
  };
  for (const outcome of ['accepted', 'duplicate', 'ignored', 'unreadable']) agent.events.inc({ outcome }, 0);
  agent.gaps.inc(0);
  return agent;
}
