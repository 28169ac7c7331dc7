/**
 * One cluster of the composition root: its connection, dispatcher, label selection, reconciler, Events and
 * reporter (a queue of its own), and whether its API server answers.
 */
import { hostname } from 'node:os';
import type { Readiness } from '../http/index.ts';
import type { Clock, Logger } from '../core/index.ts';
import type { Config } from '../config/index.ts';
import { connectResolved, createEventRecorder, failureClass, type EventRecorder, type KubeConnection, type KubeTarget } from '../kube/index.ts';
import { createReconcileReporter, type ClusterReconcileReporter, type Metrics } from '../observe/index.ts';
import { createDispatcher, createLabelSelection, createReconciler, retryPolicy, type PatchReport, type Reconciler, type WorkLedger } from '../reconcile/index.ts';
import type { DeliveryLog } from '../store/index.ts';

/** How long a successful API-server check counts for /readyz, so probes do not load the API server. */
const readinessCacheMs = 2_000;

export interface MemberOptions {
  config: Config;
  metrics: Metrics;
  log: Logger;
  deliveries: DeliveryLog;
  /** Where patches settle the work they served (the journal). */
  ledger: WorkLedger;
  /** The process's one requestedAt source (values never repeat, whichever cluster they go to). */
  requestedAt: (now: Date) => string;
  clock: Clock;
  random?: () => number;
  /** Each finished patch of a cluster, for following (feedback:); absent when following is off. */
  patched?(cluster: string | undefined, report: PatchReport): void;
}

export interface Member {
  name?: string;
  connection: KubeConnection;
  reconciler: Reconciler;
  reporter: ClusterReconcileReporter;
  lastReady: { at: number; result: Readiness };
}

/** `cluster NAME: ` before a problem of one of several clusters; nothing with the single `kubernetes:` connection. */
export const named = (member: Member) => (member.name === undefined ? '' : `cluster ${member.name}: `);

/** Connects the cluster and gives it its own queue: dispatcher, label selection, reconciler, Events. */
export async function startMember(target: { name?: string; kube: KubeTarget }, options: MemberOptions, eventFailed: (reason: string, error: string) => void): Promise<Member> {
  const { config, log, clock } = options;
  const connection = await connectResolved(target.kube, { timeoutMs: config.kubernetes.requestTimeout });
  const where = target.name === undefined ? {} : { cluster: target.name };
  if (connection.warning) log.warn(connection.warning, where);
  log.info('kubernetes', { ...where, mode: connection.mode, target: connection.describe });
  const reporter = createReconcileReporter(options.metrics, log, options.deliveries, target.name);
  const reported = options.patched ? withFollowing(reporter, (report) => options.patched!(target.name, report)) : reporter;
  const dispatcher = createDispatcher({
    concurrency: config.reconcile.concurrency,
    policy: retryPolicy(config.reconcile.retry, options.random),
    clock,
    onRetry: (job, notice) => reporter.retrying(job.label, job.kind, notice),
  });
  // One Event per burst: the window covers the debounce window of the leading patch and the trailing patch that closes it.
  // Events wait while the cluster's patches are waiting or running: a fan-out's patches go first.
  let busy = () => false;
  const events =
    config.kubernetes.events && connection.mode !== 'dry-run'
      ? createEventRecorder({ api: connection.client.api, clock, windowMs: 2 * config.reconcile.debounce, instance: hostname(), failed: eventFailed, busy: () => busy() })
      : undefined;
  const reconciler = createReconciler({
    ...(events ? { events } : {}),
    client: connection.client,
    dryRun: connection.mode === 'dry-run',
    debounceMs: config.reconcile.debounce,
    maxAgeMs: config.reconcile.retry.maxAge,
    ledger: options.ledger,
    dispatcher,
    selection: createLabelSelection({ client: connection.client, dispatcher, clock, maxAgeMs: config.reconcile.debounce }),
    clock,
    requestedAt: options.requestedAt,
    reporter: events ? withEventsWoken(reported, events) : reported,
  });
  busy = () => reconciler.pending() > 0;
  return { ...(target.name !== undefined ? { name: target.name } : {}), connection, reconciler, reporter, lastReady: { at: -Infinity, result: { ready: false, reason: 'not checked yet' } } };
}

/** The cluster's reporter, waking the Events that waited for its patches once none are left. */
function withEventsWoken(reporter: ClusterReconcileReporter, events: EventRecorder): ClusterReconcileReporter {
  return {
    ...reporter,
    pending(count) {
      reporter.pending(count);
      if (count === 0) events.wake();
    },
  };
}

/** The cluster's reporter, handing each finished patch to following as well. */
function withFollowing(reporter: ClusterReconcileReporter, patched: (report: PatchReport) => void): ClusterReconcileReporter {
  return {
    ...reporter,
    finished(report) {
      reporter.finished(report);
      patched(report);
    },
  };
}

/** Whether the cluster's API server answers (a success is reused for a moment, so probes do not load it). */
export async function apiReadiness(member: Member, clock: Clock, requestTimeoutMs: number): Promise<Readiness> {
  if (member.lastReady.result.ready && clock.now() - member.lastReady.at < readinessCacheMs) return member.lastReady.result;
  let result: Readiness;
  try {
    await member.connection.client.ping(AbortSignal.timeout(requestTimeoutMs));
    result = { ready: true };
  } catch (error) {
    result = { ready: false, reason: failureClass(error), detail: `Kubernetes API: ${(error as Error).message}` };
  }
  member.lastReady = { at: clock.now(), result };
  return result;
}
