/**
 * Following, assembled: a view of each cluster (its informers from the pool shared with discovery), the follower,
 * and where its reports go — the observers (delivery records, metrics, logs) and, with `commitStatus`, the hosts.
 * Reconcile hands it each finished patch; it never hands anything back.
 */
import type { Clock, Logger } from '../core/index.ts';
import type { Informer, InformerOptions, KubeApi } from '../kube/index.ts';
import type { PatchReport } from '../reconcile/index.ts';
import { createClusterView, type ClusterView } from './cluster-view.ts';
import { commitStatusReporter, type CommitStatusSettings } from './commit-statuses.ts';
import { createFollower, type FollowReporter } from './follower.ts';
import type { StatusWriter } from './status-writer.ts';

export interface FeedbackOptions {
  /** The clusters patches are sent to (not the dry-run ones), `name` undefined for the single `kubernetes:` connection. */
  clusters: readonly { name?: string; api: KubeApi }[];
  kinds: readonly { apiVersion: string; kind: string }[];
  /** undefined: all namespaces. */
  namespaces?: readonly string[];
  timeoutMs: number;
  maxFollowed: number;
  /** Where informers come from: the pool shared with discovery. */
  informers: (options: InformerOptions) => Informer;
  informer?: Pick<InformerOptions, 'backoff' | 'random' | 'kindRecheckMs' | 'watchTimeoutSeconds' | 'pageSize' | 'maxLineBytes'>;
  clock: Clock;
  log: Logger;
  /** The observers: delivery records, metrics, log lines. */
  reporter: FollowReporter;
  /** With `feedback.commitStatus`: how statuses are named and routed, and the writer's queues. */
  statuses?: { settings: CommitStatusSettings; writer: StatusWriter };
}

export interface Feedback {
  /** A patch in `cluster` ended: a successful one is followed. */
  patched(cluster: string | undefined, report: PatchReport): void;
  /** Opens the views' informers (after `pool.start()` their shared watches run). */
  start(): void;
  stop(): Promise<void>;
  /** Objects followed now. */
  following(): number;
  /** Watched objects held over every cluster (measurements). */
  watched(): number;
}

/**
 * @example
 * const feedback = createFeedback({ clusters: [{ api }], kinds: followedKinds(config), timeoutMs: 600_000, maxFollowed: 10_000, informers: pool.informer, clock, log, reporter });
 * feedback.start(); pool.start();
 * feedback.patched(undefined, report); // from reconcile's reporter
 */
export function createFeedback(options: FeedbackOptions): Feedback {
  const views = new Map<string | undefined, ClusterView>();
  const statuses = options.statuses ? commitStatusReporter(options.statuses.settings, options.statuses.writer) : undefined;
  const reporter: FollowReporter = {
    changed(view) {
      options.reporter.changed(view);
      statuses?.changed(view);
    },
    following: (count) => options.reporter.following(count),
  };
  const follower = createFollower({ views, clock: options.clock, timeoutMs: options.timeoutMs, maxFollowed: options.maxFollowed, reporter });
  for (const cluster of options.clusters) {
    views.set(
      cluster.name,
      createClusterView({
        api: cluster.api,
        ...(cluster.name !== undefined ? { cluster: cluster.name } : {}),
        kinds: options.kinds,
        ...(options.namespaces ? { namespaces: options.namespaces } : {}),
        informers: options.informers,
        ...(options.informer ? { informer: options.informer } : {}),
        clock: options.clock,
        log: options.log,
        changed: (object) => follower.changed(cluster.name, object),
      }),
    );
  }
  return {
    patched(cluster, report) {
      if (report.outcome !== 'success' || !report.ref || !report.annotation) return;
      const { apiVersion, kind, namespace, name } = report.ref;
      follower.patched(cluster, { apiVersion, kind, namespace, name, tickets: report.tickets, value: report.annotation.value, endedAt: report.endedAt });
    },
    start() {
      for (const view of views.values()) view.start();
    },
    async stop() {
      follower.stop();
      options.statuses?.writer.stop();
      await Promise.all([...views.values()].map((view) => view.stop()));
    },
    following: () => follower.size(),
    watched: () => [...views.values()].reduce((total, view) => total + view.size(), 0),
  };
}
