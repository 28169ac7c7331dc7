/**
 * The relay's reports as metrics, log lines and delivery-log entries. On an agent, each relayed event gets its
 * record like a webhook's, as `<upstream> (relay)`, with the edge's provider and delivery it came from; a gap is a
 * record too, and an error in the log.
 */
import { cutOptional, cutText, redactUrl, type Logger } from '../core/index.ts';
import type { RelayEvent } from '../pipeline/index.ts';
import type { AgentReporter, EdgeReporter } from '../relay/index.ts';
import type { DeliveryLog, RelayRecord } from '../store/index.ts';
import type { AgentMetrics, EdgeMetrics } from './relay-metrics.ts';

/** @example const reporter = createEdgeReporter(edgeMetrics(metrics, gauges), log); */
export function createEdgeReporter(metrics: EdgeMetrics, log: Logger): EdgeReporter & { published(records: readonly RelayRecord[]): void } {
  return {
    published(records) {
      for (const record of records) for (const subscriber of record.to) metrics.published.inc({ subscriber });
    },
    refused(reason, detail) {
      metrics.refused.inc({ reason });
      log.warn('relay request refused', { reason, detail: cutText(detail) });
    },
    connected(subscriber, resumedAfter, gap) {
      log.info('relay: an agent connected', { subscriber, resumedAfter: resumedAfter || undefined, gap: gap || undefined });
      if (!gap) return;
      metrics.gaps.inc({ subscriber });
      log.warn('relay: events the agent had not acknowledged are no longer kept; it was told to reconcile everything it watches', { subscriber });
    },
    ended(subscriber, reason) {
      metrics.ended.inc({ subscriber, reason });
      if (reason === 'stalled') log.warn('relay: an agent took nothing for relay.stallTimeout; its stream was closed (it resumes from what it acknowledged)', { subscriber });
      else log.info('relay: an agent\'s stream ended', { subscriber, reason });
    },
    delivered: (subscriber, count) => metrics.delivered.inc({ subscriber }, count),
    acknowledged: (subscriber, count) => metrics.acknowledged.inc({ subscriber }, count),
  };
}

/** @example const reporter = createAgentReporter(agentMetrics(metrics, status), log, deliveries, 'upstream', () => Date.now()); */
export function createAgentReporter(metrics: AgentMetrics, log: Logger, deliveries: DeliveryLog, source: string, now: () => number): AgentReporter {
  const record = (id: string, relayed: RelayEvent | undefined, fields: Partial<Parameters<DeliveryLog['add']>[0]>) => {
    const repository = relayed && (relayed.event.repositories[0] ?? relayed.event.image?.name);
    deliveries.add({
      deliveryId: cutText(id),
      provider: source,
      type: 'relay',
      event: relayed ? cutText(relayed.event.event) : 'gap',
      receivedAt: new Date(now()).toISOString(),
      status: 202,
      outcome: 'accepted',
      targets: [],
      ...(repository !== undefined ? { repository: cutText(redactUrl(repository)) } : {}),
      ...(relayed ? { ref: cutOptional(relayed.event.ref ?? relayed.event.tag), commit: cutOptional(relayed.event.commit) } : {}),
      ...(relayed ? { relayedFrom: { provider: cutText(relayed.provider), type: cutText(relayed.type), ...(relayed.deliveryId !== undefined ? { deliveryId: cutText(relayed.deliveryId) } : {}), receivedAt: new Date(relayed.receivedAt).toISOString() } } : {}),
      ...fields,
    });
  };
  return {
    connected: (hello) => log.info('connected to the edge', { subscriber: hello.subscriber, resumedAfter: hello.after || undefined, head: hello.head }),
    disconnected(end, retryInMs) {
      metrics.disconnects.inc({ reason: end.kind });
      const fields = { ...('error' in end ? { error: cutText(end.error) } : {}), ...(end.kind === 'refused' ? { status: end.status } : {}), retryInMs };
      if (end.kind === 'refused' && end.status === 401) log.error('the edge refused this agent\'s credential: is upstream.token the token of its subscriber on the edge?', fields);
      else if (end.kind === 'unverified') log.error('an event from the edge did not verify: the connection was dropped, nothing of it taken', fields);
      else log.warn('the connection to the edge ended; reconnecting', { reason: end.kind, ...fields });
    },
    event(id, relayed, taken) {
      metrics.events.inc({ outcome: taken.kind });
      const via = { edgeProvider: relayed.provider, edgeDelivery: cutOptional(relayed.deliveryId) };
      if (taken.kind === 'duplicate') return log.info('relayed event ignored', { event: id, reason: 'duplicate delivery', ...via });
      if (taken.kind === 'ignored') {
        log.info('relayed event ignored', { event: id, reason: cutText(taken.reason), ...via });
        return record(id, relayed, { status: 200, outcome: 'ignored', reason: cutText(taken.reason) });
      }
      log.info('relayed event accepted', { event: id, targets: taken.targets, ...via });
      record(id, relayed, { ticket: taken.ticket.seq, targets: taken.targets, ...(taken.discovered && taken.discovered.misses.length > 0 ? { nearMisses: taken.discovered.misses.map((miss) => cutText(miss)) } : {}) });
      for (const request of taken.discovered?.requests ?? []) deliveries.effect(taken.ticket.seq, { object: request.selector.label, ...(request.cluster !== undefined ? { cluster: request.cluster } : {}), state: 'pending', rule: cutText(request.rule) });
    },
    unreadable(id) {
      metrics.events.inc({ outcome: 'unreadable' });
      log.error('a signed event from the edge could not be read (is the edge a newer fluxgate?): skipped', { event: id });
    },
    gap(id, reason, taken) {
      metrics.gaps.inc();
      log.error('the edge no longer has events this agent had not taken: everything it watches is reconciled', { event: id, reason: cutText(reason), objects: taken.objects });
      if (taken.ticket) record(id, undefined, { ticket: taken.ticket.seq, reason: cutText(reason) });
      else record(id, undefined, { status: 200, outcome: 'ignored', reason: `${cutText(reason)} (nothing watched to reconcile)` });
    },
    ackFailed(error) {
      metrics.ackFailures.inc();
      log.warn('an acknowledgement did not reach the edge; the next one covers it', { error: cutText(error) });
    },
  };
}
