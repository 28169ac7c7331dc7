/**
 * Follow changes as commit statuses: one per cluster and object on the pushed commit (its context from
 * `feedback.context`), pending while followed, success once applied (or fetched, for a source; handled, for a kind
 * without a revision), failure with the controller's message, error at the timeout, and a final `superseded` when a
 * newer commit took the object over. Sent through the writer's queues, with the credentials of the provider that
 * received the push (or, for a Receiver, the first provider of its type with a `register` block).
 */
import { pushInstant, type Ticket, type TicketCause } from '../core/index.ts';
import { cutDescription, type CommitState, type CommitStatus } from '../provider-kit/index.ts';
import type { FollowView } from './follower.ts';
import type { StatusRoute, StatusWriter } from './status-writer.ts';

export interface CommitStatusSettings {
  /** `feedback.context`, with `{cluster}`, `{kind}`, `{namespace}`, `{name}`. */
  context: string;
  /** `server.publicUrl`: statuses link to the delivery's page there. */
  publicUrl?: string;
  /** The credentials for a delivery's statuses, or undefined when its provider has none. */
  route(cause: TicketCause): StatusRoute | undefined;
}

/** The cluster name in a context with the single `kubernetes:` connection. */
export const DEFAULT_CLUSTER = 'default';

/**
 * @example
 * const statuses = commitStatusReporter({ context: 'fluxgate/{cluster}/{kind}/{namespace}/{name}', route }, writer);
 * statuses.changed(view); // queues a status on view.commit
 */
export function commitStatusReporter(settings: CommitStatusSettings, writer: StatusWriter): { changed(view: FollowView): void } {
  return {
    changed(view) {
      const state = stateOf(view);
      const ticket = view.tickets.at(-1);
      const cause = ticket?.cause;
      if (state === undefined || !cause || !isGitCommit(view.commit) || cause.repository === undefined) return;
      const route = settings.route(cause);
      if (!route) return;
      const repository = hostRepository(cause.repository);
      if (repository === '') return;
      const push = pushInstant(cause.pushedAt, ticket!.acceptedAt).at;
      const status: CommitStatus = {
        state,
        context: contextOf(settings.context, view),
        description: cutDescription(describe(view, state, push), route.statuses.spec.maxDescription),
        ...(settings.publicUrl ? { targetUrl: `${settings.publicUrl.replace(/\/+$/, '')}/deliveries/${encodeURIComponent(deliveryKey(ticket!))}` } : {}),
      };
      writer.write(route, { repository, sha: view.commit! }, status);
    },
  };
}

function stateOf(view: FollowView): CommitState | undefined {
  switch (view.stage) {
    case 'not-followed':
      return undefined;
    case 'superseded':
      return 'superseded';
    case 'timed-out':
      return 'error';
    case 'failed':
      return 'failure';
    default:
      return view.final ? 'success' : 'pending';
  }
}

/** A Git commit (SHA-1 or SHA-256), not an image digest: only those have statuses. */
function isGitCommit(commit: string | undefined): boolean {
  return commit !== undefined && /^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(commit);
}

export function contextOf(template: string, view: Pick<FollowView, 'cluster' | 'kind' | 'namespace' | 'name'>): string {
  const values: Record<string, string> = { cluster: view.cluster ?? DEFAULT_CLUSTER, kind: view.kind, namespace: view.namespace, name: view.name };
  return template.replace(/\{(cluster|kind|namespace|name)\}/g, (_, key: string) => values[key]!);
}

/** `org/app` from any spelling the delivery gave: a slug, an https or ssh URL, scp-like `git@host:org/app.git`. */
export function hostRepository(spelling: string): string {
  let path = spelling.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/(.*)$/i.exec(path);
  const scp = /^[^/@\s]+@[^:/\s]+:(.*)$/.exec(path);
  if (url) path = url[1]!;
  else if (scp) path = scp[1]!;
  return path.replace(/[?#].*$/, '').replace(/\/+$/, '').replace(/\.git$/i, '').replace(/^\/+/, '');
}

/** The id the drill-down page finds a delivery by (store/delivery-log.ts deliveryKey). */
function deliveryKey(ticket: Ticket): string {
  return ticket.cause?.deliveryId ?? `fluxgate-${ticket.seq}`;
}

function describe(view: FollowView, state: CommitState, push: number): string {
  const where = view.cluster !== undefined ? ` in ${view.cluster}` : '';
  const after = (at: number | undefined) => (at === undefined ? '' : ` ${duration(at - push)} after the push`);
  if (state === 'failure' || state === 'error' || state === 'superseded') return view.detail ?? view.stage;
  if (state === 'success') {
    if (view.stage === 'applied') return `applied ${view.revision ?? ''}${where},${after(view.appliedAt)}`.replace(/ ,/, ',');
    if (view.stage === 'fetched') return `fetched ${view.revision ?? ''}${where},${after(view.fetchedAt)}`.replace(/ ,/, ',');
    return `reconciled${where},${after(view.handledAt)}`;
  }
  if (view.via !== undefined) return view.fetchedAt !== undefined ? `${view.via} fetched it${after(view.fetchedAt)}; applying${where}` : `waiting for ${view.via} to fetch it${where}`;
  if (view.stage === 'handled') return `reconciling${where} (requested${after(view.patchedAt)})`;
  return `reconcile requested${where}${after(view.patchedAt)}`;
}

/** `850 ms`, `41 s`, `3 min 5 s`. */
export function duration(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 1000) return `${Math.round(clamped)} ms`;
  if (clamped < 60_000) return `${(clamped / 1000).toFixed(clamped < 10_000 ? 1 : 0)} s`;
  const seconds = Math.round(clamped / 1000);
  return `${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
}
