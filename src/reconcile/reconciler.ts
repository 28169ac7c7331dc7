/**
 * Turns accepted webhooks into reconcile requests. This file owns all reconcile state: one small state machine
 * per object, and nothing else decides when an object is patched.
 *
 * Per object (apiVersion, kind, namespace, name, annotation):
 * - idle → a request starts a patch at once (the leading edge) and opens a debounce window;
 * - requests while the window is open or the patch is still running (retries included) wait, folded together;
 * - when the window has closed AND the patch has finished, the waiting requests start ONE more patch (the
 *   trailing edge), which opens a new window; with nothing waiting the object returns to idle and is forgotten.
 * So every request is followed by a patch that starts after it, a burst costs two patches, and there is never
 * more than one patch per object in flight (a retry landing after a newer patch would put an older requestedAt
 * back). While shutting down there are no windows: waiting requests start as soon as the running patch ends.
 *
 * Label selectors are resolved to names first (label-selection.ts) and then take the same per-object path; so are
 * selectors with a filter (a Flux Receiver's resourceFilter), named or not: their objects are read and filtered
 * first, for the one webhook the filter was bound to.
 */
import { delay, type Clock } from './clock.ts';
import type { Dispatcher, RetryNotice } from './dispatcher.ts';
import type { ReconcileAnnotation } from './kinds.ts';
import type { KubeClient, ObjectRef } from './kube-client.ts';
import type { LabelSelection, SelectionResult } from './label-selection.ts';
import type { FinalOutcome } from './retry.ts';
import type { EventRecorder, TicketCause } from './kube-events.ts';

/** One accepted webhook, as far as reconcile is concerned; minted by the pipeline. */
export interface Ticket {
  seq: number;
  acceptedAt: number;
  /** What the delivery was, for the Event on each object it patched. */
  cause?: TicketCause;
}

/** A configured resource, compiled at start-up: a named object or a label query. */
export interface ObjectSelector {
  apiVersion: string;
  kind: string;
  namespace: string;
  name?: string;
  matchLabels?: Record<string, string>;
  annotation: ReconcileAnnotation;
  /** Identity of the selector; identical selectors in different targets share it. */
  key: string;
  /** For people: `GitRepository flux-system/flux-repo` or `Kustomization flux-system/{app=my-app}`. */
  label: string;
  /** Set when only some of the selected objects are to be patched, decided from the objects themselves. */
  filter?: ObjectFilter;
  /** The clusters (names from `clusters:`) it is reconciled in; undefined: every cluster. Read by the fleet (fleet.ts). */
  clusters?: readonly string[];
}

/** True: patch it; false: leave it; `{ error }`: the filter could not decide (reported; the object is left). */
export type FilterVerdict = boolean | { error: string };

/**
 * Decides, for one webhook, which of a selector's objects are patched (a Flux Receiver's resourceFilter bound to
 * the delivery's body). It sees each object's apiVersion, kind and metadata (managedFields left out). The
 * filters of one webhook's selectors that are called in the same turn decide together, in one evaluation for
 * the delivery: label selection calls them for all of a webhook's filtered selectors at once.
 *
 * @example
 * const filter: ObjectFilter = { accepts: async (objects) => objects.map((object) => (object.metadata as { name: string }).name.startsWith('web-')) };
 */
export interface ObjectFilter {
  /** A verdict per object, in order; or `{ error }` when none could be decided (nothing of this delivery is patched). */
  accepts(objects: readonly Readonly<Record<string, unknown>>[]): Promise<FilterVerdict[] | { error: string }>;
}

export type PatchOutcome = 'success' | 'dry_run' | FinalOutcome;

export interface PatchReport {
  object: string;
  kind: string;
  outcome: PatchOutcome;
  attempts: number;
  error?: string;
  retriesExhausted?: boolean;
  /** The accepted webhooks this patch serves (at most `maxTrackedTickets`). */
  tickets: Ticket[];
  /** Further webhooks folded into this patch beyond the tracked ones. */
  untracked: number;
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
  /** Requests a reconcile of every object the selectors name, for one accepted webhook. */
  submit(ticket: Ticket, selectors: readonly ObjectSelector[]): void;
  /** Whether submitting these selectors keeps the pending objects within `maxPending` (the HTTP layer answers 503 otherwise). */
  hasRoom(selectors: readonly ObjectSelector[]): boolean;
  /** Objects with a patch running or waiting, plus label selectors being listed. */
  pending(): number;
  /** Starts every waiting patch at once, keeps patching what still arrives, and waits (bounded) until nothing is left. */
  shutdown(timeoutMs: number): Promise<{ unfinished: number }>;
}

export interface ReconcilerOptions {
  client: KubeClient;
  dryRun: boolean;
  debounceMs: number;
  maxPending: number;
  dispatcher: Dispatcher;
  selection: LabelSelection;
  clock: Clock;
  /** Source of requestedAt tokens (kinds.ts createRequestedAtClock), one per process. */
  requestedAt: (now: Date) => string;
  reporter: ReconcileReporter;
  /** Webhooks remembered per waiting patch for reports; more are counted, not kept (bounded memory under a flood). */
  maxTrackedTickets?: number;
  /** Writes an Event on each object patched (not in dry-run); absent: no Events. */
  events?: EventRecorder;
}

interface ObjectState {
  key: string;
  ref: ObjectRef;
  label: string;
  annotation: ReconcileAnnotation;
  /** A patch (with its retries) is under way. */
  running: boolean;
  /** The debounce window's timer while it is open. */
  window: unknown;
  /** Webhooks the next patch serves. */
  waiting: Ticket[];
  untracked: number;
  /** Counted in `busyObjects`: running or waiting. */
  busy: boolean;
}

/**
 * @example
 * const reconciler = createReconciler({ client, dryRun: false, debounceMs: 2000, maxPending: 10_000, dispatcher, selection,
 *   clock: systemClock, requestedAt: createRequestedAtClock(), reporter });
 * if (reconciler.hasRoom(selectors)) reconciler.submit({ seq: 1, acceptedAt: Date.now() }, selectors);
 */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { client, dryRun, dispatcher, selection, clock, reporter, requestedAt } = options;
  const maxTracked = options.maxTrackedTickets ?? 1000;
  const objects = new Map<string, ObjectState>();
  let busyObjects = 0;
  let selecting = 0;
  let draining = false;
  /** Aborted when shutdown runs out of time: in-flight attempts and backoffs give up. */
  const stop = new AbortController();
  const idleWaiters: (() => void)[] = [];

  const pendingCount = () => busyObjects + selecting;

  function settle(state: ObjectState): void {
    const busy = state.running || state.waiting.length > 0;
    if (busy !== state.busy) {
      state.busy = busy;
      busyObjects += busy ? 1 : -1;
      reporter.pending(pendingCount());
    }
  }

  function checkIdle(): void {
    if (objects.size === 0 && selecting === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  }

  function stateOf(selector: ObjectSelector, name: string): ObjectState {
    const key = objectKey(selector, name);
    let state = objects.get(key);
    if (!state) {
      const ref = { apiVersion: selector.apiVersion, kind: selector.kind, namespace: selector.namespace, name };
      state = { key, ref, label: `${selector.kind} ${selector.namespace}/${name}`, annotation: selector.annotation, running: false, window: undefined, waiting: [], untracked: 0, busy: false };
      objects.set(key, state);
    }
    return state;
  }

  function request(selector: ObjectSelector, name: string, tickets: readonly Ticket[]): void {
    const state = stateOf(selector, name);
    if (!state.running && state.window === undefined) {
      start(state, [...tickets], 0);
    } else {
      for (const ticket of tickets) {
        if (state.waiting.length === 0) reporter.queued(state.label, [ticket]);
        else reporter.coalesced(state.label, ticket);
        if (state.waiting.length < maxTracked) state.waiting.push(ticket);
        else state.untracked += 1;
      }
    }
    settle(state);
  }

  function start(state: ObjectState, tickets: Ticket[], untracked: number): void {
    state.running = true;
    state.waiting = [];
    state.untracked = 0;
    if (!draining) {
      state.window = clock.setTimer(() => {
        state.window = undefined;
        advance(state);
      }, options.debounceMs);
    }
    // One value per patch, kept across its retries: Flux treats it as an opaque token.
    const value = state.annotation.fixedValue ?? requestedAt(new Date(clock.now()));
    const annotations = { [state.annotation.key]: value };
    reporter.queued(state.label, tickets);
    let uid: string | undefined;
    const attempt = async (signal: AbortSignal) => {
      uid = (await client.mergePatch(state.ref, annotations, signal)).uid;
    };
    void dispatcher
      .run({ kind: state.ref.kind, label: state.label, attempt }, stop.signal)
      .then((result) => {
        state.running = false;
        const base = { object: state.label, kind: state.ref.kind, attempts: result.attempts, tickets, untracked, endedAt: clock.now() };
        if (result.ok && !dryRun) options.events?.requested(state.ref, uid, tickets, untracked);
        if (result.ok) reporter.finished({ ...base, outcome: dryRun ? 'dry_run' : 'success' });
        else reporter.finished({ ...base, outcome: result.outcome, error: result.error, retriesExhausted: result.retriesExhausted });
        advance(state);
      });
  }

  /** After the window closed or the patch ended: the trailing patch, or back to idle. */
  function advance(state: ObjectState): void {
    if (!state.running && state.window === undefined) {
      if (state.waiting.length > 0) start(state, state.waiting, state.untracked);
      else objects.delete(state.key);
    }
    settle(state);
    checkIdle();
  }

  /** Resolves `selectors` to names with `select` (a result per selector) and requests a patch of each named object. */
  async function selectThenRequest(selectors: readonly ObjectSelector[], ticket: Ticket, select: () => Promise<SelectionResult[]>): Promise<void> {
    selecting += selectors.length;
    reporter.pending(pendingCount());
    for (const selector of selectors) reporter.queued(selector.label, [ticket]);
    try {
      const results = await select();
      selectors.forEach((selector, index) => {
        const result = results[index]!;
        if (!result.ok) {
          reporter.selectionFailed(selector.label, selector.kind, result.error, [ticket]);
          return;
        }
        reporter.selected(selector.label, result.names, [ticket], dryRun);
        if (result.problems !== undefined) reporter.selectionFailed(selector.label, selector.kind, result.problems, [ticket]);
        for (const name of result.names) request(selector, name, [ticket]);
      });
    } finally {
      selecting -= selectors.length;
      reporter.pending(pendingCount());
      checkIdle();
    }
  }

  return {
    submit(ticket, selectors) {
      for (const selector of selectors) {
        if (selector.filter !== undefined) continue;
        if (selector.name !== undefined) request(selector, selector.name, [ticket]);
        else void selectThenRequest([selector], ticket, async () => [await selection.select(selector, stop.signal)]);
      }
      // One webhook's filters are decided together: one evaluation for the delivery.
      const filtered = selectors.filter((selector) => selector.filter !== undefined);
      if (filtered.length > 0) void selectThenRequest(filtered, ticket, () => selection.selectFiltered(filtered, stop.signal));
    },
    hasRoom(selectors) {
      let added = 0;
      for (const selector of selectors) {
        // A request for an object already waiting joins its patch: it adds nothing. A filtered one counts until read.
        if (selector.name === undefined || selector.filter !== undefined || !objects.get(objectKey(selector, selector.name))?.busy) added += 1;
      }
      // An empty queue takes any one webhook, so a target naming more objects than maxPending still works.
      return added === 0 || pendingCount() === 0 || pendingCount() + added <= options.maxPending;
    },
    pending: pendingCount,
    async shutdown(timeoutMs) {
      draining = true;
      for (const state of [...objects.values()]) {
        if (state.window !== undefined) clock.clearTimer(state.window);
        state.window = undefined;
        advance(state);
      }
      const idle = () => new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
      const timer = new AbortController();
      const finished = await Promise.race([idle().then(() => true), delay(clock, timeoutMs, timer.signal).then(() => false)]);
      timer.abort();
      if (finished) return { unfinished: 0 };
      const unfinished = pendingCount();
      // Out of time: give up on backoffs and in-flight requests (each is reported as failed).
      stop.abort();
      await idle();
      return { unfinished };
    },
  };
}

function objectKey(selector: ObjectSelector, name: string): string {
  return `${selector.apiVersion}|${selector.kind}|${selector.namespace}|${name}|${selector.annotation.key}`;
}
