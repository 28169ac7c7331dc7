/**
 * Turns accepted webhooks into reconcile requests: debounce per object (or per label selector), then one
 * merge patch per object through the dispatcher. Knows nothing of providers; reports every step.
 */
import { delay, type Clock } from './clock.ts';
import { createDebouncer } from './debouncer.ts';
import type { Dispatcher, RetryNotice } from './dispatcher.ts';
import type { KubeClient } from './kube-client.ts';
import type { FinalOutcome } from './retry.ts';

/** One accepted webhook, as far as reconcile is concerned. */
export interface Ticket {
  seq: number;
  acceptedAt: number;
}

/** A configured resource, compiled at start-up: a named object or a label query. */
export interface ObjectSelector {
  apiVersion: string;
  kind: string;
  namespace: string;
  name?: string;
  matchLabels?: Record<string, string>;
  annotation: { key: string; value(now: Date): string };
  /** Debounce key; identical selectors in different targets share it. */
  key: string;
  /** For people: `GitRepository flux-system/flux-repo` or `Kustomization flux-system/{app=my-app}`. */
  label: string;
}

export type PatchOutcome = 'success' | 'dry_run' | FinalOutcome;

export interface PatchReport {
  object: string;
  kind: string;
  outcome: PatchOutcome;
  attempts: number;
  error?: string;
  retriesExhausted?: boolean;
  tickets: Ticket[];
  /** When the API server acknowledged (or the attempt ended). */
  endedAt: number;
}

/** What reconcile tells the observers; implemented in observe/. */
export interface ReconcileReporter {
  queued(object: string, tickets: readonly Ticket[]): void;
  coalesced(object: string, ticket: Ticket): void;
  retrying(object: string, kind: string, notice: RetryNotice): void;
  selected(selector: string, names: readonly string[], tickets: readonly Ticket[], dryRun: boolean): void;
  selectionFailed(selector: string, kind: string, error: string, tickets: readonly Ticket[]): void;
  finished(report: PatchReport): void;
  pending(count: number): void;
}

export interface Reconciler {
  submit(ticket: Ticket, selectors: readonly ObjectSelector[]): void;
  /** True when no more work can be queued (the HTTP layer answers 503). */
  full(): boolean;
  pending(): number;
  /** Flushes every pending trailing request at once and waits (bounded) for all patches. */
  shutdown(timeoutMs: number): Promise<{ unfinished: number }>;
}

export interface ReconcilerOptions {
  client: KubeClient;
  dryRun: boolean;
  debounceMs: number;
  maxPending: number;
  dispatcher: Dispatcher;
  clock: Clock;
  reporter: ReconcileReporter;
}

interface Waiter {
  ticket: Ticket;
  selector: ObjectSelector;
}

export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { client, dryRun, dispatcher, clock, reporter } = options;
  /**
   * Objects with a patch running or backing off, and the tickets waiting for the one patch that follows it.
   * One patch at a time per object: a retry that lands after a newer patch would put an older requestedAt
   * back, and a throttled API server should not get a second, parallel request for the same object.
   */
  const inFlight = new Map<string, { followUp: Ticket[] }>();
  let followUps = 0;
  /** Patch and selection work not finished yet, including follow-ups not yet handed to the dispatcher. */
  const work = createWorkTracker();
  const pendingCount = () => debouncer.pending() + dispatcher.size() + followUps;
  const reportPending = () => reporter.pending(pendingCount());

  function patch(selector: ObjectSelector, name: string, tickets: Ticket[]): Promise<void> {
    const object = `${selector.kind} ${selector.namespace}/${name}`;
    const key = `${selector.apiVersion}|${object}|${selector.annotation.key}`;
    const running = inFlight.get(key);
    if (running) {
      if (running.followUp.length === 0) followUps += 1;
      running.followUp.push(...tickets);
      reporter.queued(object, tickets);
      reportPending();
      return Promise.resolve();
    }
    const entry = { followUp: [] as Ticket[] };
    inFlight.set(key, entry);
    return work.track(async () => {
      let batch = tickets;
      for (;;) {
        await patchOnce(selector, name, object, batch);
        if (entry.followUp.length === 0) break;
        batch = entry.followUp;
        entry.followUp = [];
        followUps -= 1;
      }
      inFlight.delete(key);
      reportPending();
    });
  }

  async function patchOnce(selector: ObjectSelector, name: string, object: string, tickets: Ticket[]): Promise<void> {
    const ref = { apiVersion: selector.apiVersion, kind: selector.kind, namespace: selector.namespace, name };
    // One value per patch, kept across retries: Flux treats it as an opaque token.
    const annotations = { [selector.annotation.key]: selector.annotation.value(new Date(clock.now())) };
    reporter.queued(object, tickets);
    const promise = dispatcher.submit({
      kind: selector.kind,
      label: object,
      attempt: async (signal) => {
        await client.mergePatch(ref, annotations, signal);
      },
    });
    reportPending();
    const result = await promise;
    const base = { object, kind: selector.kind, attempts: result.attempts, tickets, endedAt: clock.now() };
    if (result.ok) reporter.finished({ ...base, outcome: dryRun ? 'dry_run' : 'success' });
    else reporter.finished({ ...base, outcome: result.outcome, error: result.error, retriesExhausted: result.retriesExhausted });
    reportPending();
  }

  async function select(selector: ObjectSelector, tickets: Ticket[]): Promise<void> {
    let names: string[] = [];
    const result = await dispatcher.submit({
      kind: selector.kind,
      label: selector.label,
      attempt: async () => {
        names = await client.listNames(selector.apiVersion, selector.kind, selector.namespace, selector.matchLabels ?? {});
      },
    });
    if (!result.ok) {
      reporter.selectionFailed(selector.label, selector.kind, result.error, tickets);
      reportPending();
      return;
    }
    reporter.selected(selector.label, names, tickets, dryRun);
    await Promise.all(names.map((name) => patch(selector, name, tickets)));
    reportPending();
  }

  const debouncer = createDebouncer<Waiter>({
    windowMs: options.debounceMs,
    clock,
    fire(_key, waiters) {
      const selector = waiters[0]!.selector;
      const tickets = waiters.map((waiter) => waiter.ticket);
      void (selector.name !== undefined ? patch(selector, selector.name, tickets) : work.track(() => select(selector, tickets)));
    },
  });

  return {
    submit(ticket, selectors) {
      for (const selector of selectors) {
        const outcome = debouncer.request(selector.key, { ticket, selector });
        if (outcome === 'coalesced') reporter.coalesced(selector.label, ticket);
        else if (outcome === 'scheduled') reporter.queued(selector.label, [ticket]);
      }
      reportPending();
    },
    full: () => pendingCount() >= options.maxPending,
    pending: pendingCount,
    async shutdown(timeoutMs) {
      debouncer.flush();
      reportPending();
      const stop = new AbortController();
      const finished = await Promise.race([work.idle().then(() => true), delay(clock, timeoutMs, stop.signal).then(() => false)]);
      stop.abort();
      if (finished) return { unfinished: 0 };
      const unfinished = pendingCount();
      // Out of time: give up on backoffs and in-flight requests (each is logged as failed).
      dispatcher.abort();
      await work.idle();
      return { unfinished };
    },
  };
}

/** Counts running async work and tells when none is left. */
function createWorkTracker() {
  let running = 0;
  const waiters: (() => void)[] = [];
  return {
    async track(run: () => Promise<void>): Promise<void> {
      running += 1;
      try {
        await run();
      } finally {
        running -= 1;
        if (running === 0) for (const resolve of waiters.splice(0)) resolve();
      }
    },
    idle: (): Promise<void> => (running === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  };
}
