/**
 * The observers behind the reporter interfaces: each pipeline and reconcile event becomes a metric, a log
 * line and an entry in the delivery log. Nothing here is read back by the pipeline.
 *
 * This is where a delivery's own values (repository, ref, commit, delivery id, event, reasons quoting them) and a
 * patch's errors become records: each is cut to SHOWN_CHARACTERS, and a repository URL loses its credentials, so
 * the delivery log, the pages, /api/deliveries and the log lines stay small whatever a sender puts in a payload.
 */
import { redactUrl } from '../core/index.ts';
import { cutOptional, cutText } from '../core/index.ts';
import type { DeliveryInfo, Event } from '../provider-kit/index.ts';
import type { DiscoveryReporter } from '../discovery/index.ts';
import type { ProviderIdentity, WebhookReporter } from '../pipeline/index.ts';
import type { PatchOutcome, ReconcileReporter } from '../reconcile/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';
import type { WatchState } from '../kube/index.ts';
import type { DeliveryLog, ObjectEffect, ObjectState } from '../store/index.ts';
import type { Logger } from '../core/index.ts';
import type { Metrics } from './metrics.ts';

const statusOutcome: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 408: 'timeout', 413: 'too_large', 429: 'rate_limited', 503: 'unavailable' };

/** Event label: only names the provider is configured for, so a sender cannot create unbounded series. */
function eventLabel(provider: ProviderIdentity, info?: DeliveryInfo): string {
  if (!info) return 'unknown';
  if (info.ping) return 'ping';
  return info.event !== undefined && provider.events.has(info.event) ? info.event : 'other';
}

/** What a record and a log line keep of an event: cut, and the repository without credentials. */
function summary(event?: Event): Summary {
  if (!event) return {};
  const repository = event.repositories[0] ?? event.image?.name;
  return { repository: repository === undefined ? undefined : cutText(redactUrl(repository)), ref: cutOptional(event.ref ?? event.tag), commit: cutOptional(event.commit) };
}

type Summary = { repository?: string; ref?: string; commit?: string };

/** What a record and a log line keep of what the headers described: cut (a header may be several KB). */
function described(info?: DeliveryInfo): { deliveryId?: string; event?: string } {
  return { deliveryId: cutOptional(info?.deliveryId), event: cutOptional(info?.event) };
}

/** A provider's rate-limit refusals are logged and recorded at most once per this window (each is counted). */
export const RATE_LIMITED_RECORD_WINDOW_MS = 10_000;

export function createWebhookReporter(metrics: Metrics, log: Logger, deliveries: DeliveryLog, now: () => number): WebhookReporter {
  // Per provider: when its last rate-limit refusal was recorded, and how many were not since. A flooding sender
  // is what a limit refuses: one line and one record per window keep the log and the recent deliveries readable.
  const rateLimited = new Map<string, { at: number; unrecorded: number }>();
  const recordedRateLimit = (provider: string): number | undefined => {
    const seen = rateLimited.get(provider);
    if (seen && now() - seen.at < RATE_LIMITED_RECORD_WINDOW_MS) {
      seen.unrecorded += 1;
      return undefined;
    }
    rateLimited.set(provider, { at: now(), unrecorded: 0 });
    return seen?.unrecorded ?? 0;
  };
  // Once per delivery, thousands of times a second: kept as built (the delivery log takes it over), not copied.
  const record = (provider: ProviderIdentity, status: number, outcome: 'accepted' | 'ignored' | 'rejected', info: ReturnType<typeof described>, reason?: string, shown: Summary = {}, targets: string[] = [], ticket?: Ticket, nearMisses?: readonly string[], relayedTo?: readonly string[]) => {
    const entry: Parameters<DeliveryLog['add']>[0] = {
      ticket: ticket?.seq,
      deliveryId: info.deliveryId,
      provider: provider.name,
      type: provider.type,
      event: info.event,
      receivedAt: new Date(now()).toISOString(),
      status,
      outcome,
      reason,
      targets,
      ...shown,
    };
    if (nearMisses && nearMisses.length > 0) entry.nearMisses = nearMisses.map((miss) => cutText(miss));
    if (relayedTo && relayedTo.length > 0) entry.relayedTo = [...relayedTo];
    deliveries.add(entry);
  };
  return {
    rejected(provider, status, reason, info) {
      metrics.webhookRequests.inc({ provider: provider.name, type: provider.type, event: eventLabel(provider, info), outcome: statusOutcome[status] ?? 'error' });
      const skipped = status === 429 ? recordedRateLimit(provider.name) : 0;
      if (skipped === undefined) return;
      const headers = described(info);
      const why = cutText(skipped > 0 ? `${reason} (and ${skipped} more refused since the last one recorded)` : reason);
      log.warn('webhook rejected', { provider: provider.name, status, reason: why, event: headers.event, delivery: headers.deliveryId });
      record(provider, status, 'rejected', headers, why);
    },
    ignored(provider, info, reason, event) {
      const outcome = reason === 'duplicate delivery' ? 'duplicate' : 'ignored';
      metrics.webhookRequests.inc({ provider: provider.name, type: provider.type, event: eventLabel(provider, info), outcome });
      const headers = described(info);
      const why = cutText(reason);
      const shown = summary(event);
      log.info('webhook ignored', { provider: provider.name, event: headers.event, delivery: headers.deliveryId, reason: why, ...shown });
      record(provider, 200, 'ignored', headers, why, shown);
    },
    accepted(provider, info, event, targets, ticket, discovered, relayedTo) {
      metrics.webhookRequests.inc({ provider: provider.name, type: provider.type, event: eventLabel(provider, info), outcome: 'accepted' });
      const found = discovered ? { discovered: discovered.objects.length } : {};
      const headers = described(info);
      const shown = summary(event);
      log.info('webhook accepted', { provider: provider.name, event: headers.event, delivery: headers.deliveryId, targets, ...found, ...(relayedTo && relayedTo.length > 0 ? { relayedTo } : {}), ...shown });
      record(provider, 202, 'accepted', headers, undefined, shown, targets, ticket, discovered?.nearMisses, relayedTo);
      // Each discovered object is listed with the rule that found it; reconcile reports then update its state.
      for (const object of discovered?.objects ?? []) deliveries.effect(ticket.seq, { object: object.object, ...(object.cluster !== undefined ? { cluster: object.cluster } : {}), state: 'pending', rule: cutText(object.rule) });
    },
    verifiedWithPrevious(provider, info) {
      metrics.webhookPreviousSecret.inc({ provider: provider.name, type: provider.type });
      const headers = described(info);
      log.debug('webhook verified with previousSecret', { provider: provider.name, event: headers.event, delivery: headers.deliveryId });
    },
  };
}

const outcomeState: Record<PatchOutcome, ObjectState> = {
  success: 'patched',
  dry_run: 'dry-run',
  not_found: 'not-found',
  forbidden: 'forbidden',
  unauthorized: 'failed',
  failed: 'failed',
};

/** Reconcile's reports for one cluster (`cluster` undefined: the single `kubernetes:` connection). */
export interface ClusterReconcileReporter extends ReconcileReporter {
  /** The cluster's queue was full: these objects of an accepted delivery were not requested (fleet.ts). */
  refused(ticket: Ticket, selectors: readonly ObjectSelector[]): void;
}

export function createReconcileReporter(metrics: Metrics, log: Logger, deliveries: DeliveryLog, cluster?: string): ClusterReconcileReporter {
  const where = cluster === undefined ? {} : { cluster };
  // Once per webhook and object (a coalesced webhook too): fields are assigned, not spread, in the order shown.
  const effect = (tickets: readonly Ticket[], object: string, state: ObjectState, fullDetail?: string, attempts?: number, endedAt?: number) => {
    const detail = cutOptional(fullDetail);
    for (const ticket of tickets) {
      const row: ObjectEffect = cluster === undefined ? { object, state } : { object, cluster, state };
      if (detail !== undefined) row.detail = detail;
      if (attempts !== undefined) row.attempts = attempts;
      if (endedAt !== undefined) row.latencyMs = Math.max(0, endedAt - ticket.acceptedAt);
      deliveries.effect(ticket.seq, row);
    }
  };
  const labels = <T extends Record<string, string>>(values: T) => metrics.labels(cluster, values);
  return {
    queued(object, tickets) {
      effect(tickets, object, 'pending');
    },
    coalesced(object, ticket) {
      metrics.debounceCoalesced.inc();
      effect([ticket], object, 'pending', 'coalesced into the next patch');
    },
    retrying(object, kind, notice) {
      metrics.reconcileRetries.inc(labels({ kind, reason: notice.reason }));
      log.warn('patch failed, retrying', { object, ...where, reason: notice.reason, attempt: notice.attempt, retryInMs: notice.delayMs, error: notice.error });
    },
    selected(selector, names, tickets, dryRun, note) {
      if (note !== undefined) log.warn(note, { selector, ...where });
      if (dryRun) {
        // Nothing went wrong: without a cluster there is nothing to list. Said as the other dry-run lines are.
        const detail = 'a label selector is listed only with a cluster: each object it selects there would be reconciled';
        log.info('dry-run: reconcile request not sent', { object: selector, ...where, detail });
        effect(tickets, selector, 'dry-run', detail);
        return;
      }
      if (names.length === 0) {
        const detail = 'no object matches the labels';
        log.warn('selector matched nothing', { selector, ...where, detail });
        effect(tickets, selector, 'not-found', detail);
        return;
      }
      log.debug('selector resolved', { selector, ...where, objects: names });
      const listed = `selected ${names.length}: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`;
      effect(tickets, selector, 'selected', note === undefined ? listed : `${listed} (${note})`);
    },
    selectionFailed(selector, kind, error, tickets) {
      metrics.reconcileRequests.inc(labels({ kind, outcome: 'failed' }));
      log.error('listing objects failed', { selector, ...where, error });
      effect(tickets, selector, 'failed', error);
    },
    finished(report) {
      metrics.reconcileRequests.inc(labels({ kind: report.kind, outcome: report.outcome }));
      if (report.outcome === 'success' || report.outcome === 'dry_run') {
        for (const ticket of report.tickets) metrics.reconcileLatency.observe(Math.max(0, report.endedAt - ticket.acceptedAt) / 1000);
        const message = report.outcome === 'dry_run' ? 'dry-run: reconcile request not sent' : 'reconcile requested';
        log.info(message, { object: report.object, ...where, attempts: report.attempts, deliveries: report.tickets.length });
      } else {
        const fields = { object: report.object, ...where, outcome: report.outcome, attempts: report.attempts, error: report.error };
        if (report.retriesExhausted) metrics.reconcileRetriesExhausted.inc(labels({ kind: report.kind }));
        log.error(report.retriesExhausted ? 'patch failed after retries' : 'patch failed', fields);
      }
      effect(report.tickets, report.object, outcomeState[report.outcome], report.error, report.attempts, report.endedAt);
    },
    pending(count) {
      metrics.reconcilePending.set(labels({}), count);
    },
    refused(ticket, selectors) {
      const detail = `the reconcile queue of cluster ${cluster ?? ''} is full (reconcile.maxPending): not requested`;
      log.error('reconcile queue full: objects of an accepted delivery not requested in this cluster', { ...where, objects: selectors.length });
      for (const selector of selectors) {
        metrics.reconcileRequests.inc(labels({ kind: selector.kind, outcome: 'failed' }));
        effect([ticket], selector.label, 'failed', detail);
      }
    },
  };
}

/** Discovery's watches as metrics: objects held, and each watch's state (one-hot). */
export function createDiscoveryReporter(metrics: Metrics): DiscoveryReporter {
  const states: readonly WatchState[] = ['starting', 'kind-absent', 'listing', 'watching', 'backing-off', 'stopped'];
  return {
    objects(cluster, kind, count) {
      metrics.discoveryObjects.set(metrics.labels(cluster, { kind }), count);
    },
    state(cluster, kind, state) {
      for (const candidate of states) metrics.discoveryWatchState.set(metrics.labels(cluster, { kind, state: candidate }), candidate === state ? 1 : 0);
    },
  };
}
