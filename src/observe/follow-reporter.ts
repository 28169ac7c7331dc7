/**
 * Following's reports as records, metrics and log lines: each change of a follow becomes a row of every delivery it
 * serves (stage times counted from that delivery's push), each source fetched and object applied one observation of
 * the push-to-stage histograms (labels: cluster, kind — both bounded by the config and Flux's kinds), each end a
 * count and a log line.
 */
import { cutOptional, pushInstant, type Logger } from '../core/index.ts';
import type { FollowReporter, FollowView } from '../feedback/index.ts';
import type { DeliveryLog, FollowedObject } from '../store/index.ts';
import type { Metrics } from './metrics.ts';

/**
 * @example
 * const reporter = createFollowReporter(metrics, log, store.deliveries);
 * reporter.changed(view); // rows on the deliveries' records, histograms, a log line at the end
 */
export function createFollowReporter(metrics: Metrics, log: Logger, deliveries: DeliveryLog): FollowReporter {
  return {
    changed(view) {
      for (const ticket of view.tickets) {
        const push = pushInstant(ticket.cause?.pushedAt, ticket.acceptedAt);
        deliveries.follow(ticket.seq, rowOf(view, push.at), { at: new Date(push.at).toISOString(), from: push.from });
      }
      observe(metrics, view);
      if (view.final) {
        metrics.feedbackFollows.inc({ outcome: view.stage.replace('-', '_') });
        ended(log, view);
      }
    },
    following(count) {
      metrics.feedbackFollowing.set(count);
    },
  };
}

function rowOf(view: FollowView, push: number): FollowedObject {
  const since = (at: number | undefined) => (at === undefined ? undefined : Math.max(0, at - push));
  const row: FollowedObject = { object: view.object, stage: view.stage };
  if (view.cluster !== undefined) row.cluster = view.cluster;
  if (view.via !== undefined) row.via = view.via;
  const times = { patchedMs: since(view.patchedAt), handledMs: since(view.handledAt), fetchedMs: since(view.fetchedAt), appliedMs: since(view.appliedAt), endedMs: since(view.endedAt) };
  for (const [key, value] of Object.entries(times)) if (value !== undefined) row[key as keyof typeof times] = value;
  const revision = cutOptional(view.revision);
  if (revision !== undefined) row.revision = revision;
  const detail = cutOptional(view.detail);
  if (detail !== undefined) row.detail = detail;
  if (view.health !== undefined) row.health = view.health;
  return row;
}

/** One observation per source fetched and object applied, from the push of the oldest delivery of the commit. */
function observe(metrics: Metrics, view: FollowView): void {
  const first = view.tickets[0];
  if (!first || (view.reached !== 'fetched' && view.reached !== 'applied')) return;
  const push = pushInstant(first.cause?.pushedAt, first.acceptedAt).at;
  const labels = metrics.labels(view.cluster, { kind: view.kind });
  if (view.reached === 'fetched' && view.fetchedAt !== undefined) metrics.pushToFetched.observe(labels, Math.max(0, view.fetchedAt - push) / 1000);
  if (view.reached === 'applied' && view.appliedAt !== undefined) metrics.pushToApplied.observe(labels, Math.max(0, view.appliedAt - push) / 1000);
}

function ended(log: Logger, view: FollowView): void {
  const fields = {
    object: view.object,
    ...(view.cluster !== undefined ? { cluster: view.cluster } : {}),
    ...(view.via !== undefined ? { via: view.via } : {}),
    commit: view.commit?.slice(0, 12),
    stage: view.stage,
    revision: view.revision,
    detail: view.detail,
    deliveries: view.tickets.length,
  };
  if (view.stage === 'failed' || view.stage === 'timed-out') log.warn(view.stage === 'failed' ? 'followed: the commit failed' : 'followed: timed out', fields);
  else if (view.stage === 'not-followed') log.info('not followed', fields);
  else log.info(view.stage === 'superseded' ? 'followed: superseded' : 'followed: the commit is in', fields);
}
