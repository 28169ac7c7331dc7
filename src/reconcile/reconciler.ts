/**
 * Turns the work accepted webhooks owe (work items, kept by the journal) into patches. This file owns the timing of
 * reconcile: one small state machine per object, and nothing else decides when an object is patched. What is owed
 * is the journal's: each patch settles the items it served (`WorkLedger`), and a patch interrupted by shutdown
 * settles nothing, so its items stay owed.
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
 * Label selectors are resolved to names first (label-selection.ts), and the journal turns the names into items of
 * their own (`expand`) that take the same per-object path; so are selectors with a filter (a Flux Receiver's
 * resourceFilter), named or not: their objects are read and filtered first, for the one webhook the filter was
 * bound to. An item read back from the journal has lost its filter (it lived in the process that accepted it): it
 * reconciles every object its selector names.
 */
import { delay, type Clock } from '../core/index.ts';
import type { Dispatcher, JobResult, RetryNotice } from './dispatcher.ts';
import type { ReconcileAnnotation } from '../core/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';
import type { KubeClient, ObjectRef } from '../kube/index.ts';
import type { LabelSelection, SelectionResult } from './label-selection.ts';
import type { FinalOutcome } from './retry.ts';
import type { EventRecorder } from '../kube/index.ts';
import type { WorkItem, WorkLedger } from './work-item.ts';

export type PatchOutcome = 'success' | 'dry_run' | FinalOutcome;

export interface PatchReport {
  object: string;
  kind: string;
  outcome: PatchOutcome;
  attempts: number;
  error?: string;
  retriesExhausted?: boolean;
  /** Shutdown stopped it: the work stays owed (in a durable store, until the next start). */
  interrupted?: boolean;
  /** The accepted webhooks this patch serves (at most `maxTrackedTickets`). */
  tickets: Ticket[];
  /** Further webhooks folded into this patch beyond the tracked ones. */
  untracked: number;
  /** When the API server acknowledged (or the attempt ended). */
  endedAt: number;
  /** The object patched (following watches it). */
  ref?: ObjectRef;
  /** The annotation written: its key and value (a requestedAt token, echoed by Flux as `status.lastHandledReconcileAt`). */
  annotation?: { key: string; value: string };
}

/** What reconcile tells the observers; implemented in observe/. */
export interface ReconcileReporter {
  queued(object: string, tickets: readonly Ticket[]): void;
  coalesced(object: string, ticket: Ticket): void;
  retrying(object: string, kind: string, notice: RetryNotice): void;
  selected(selector: string, names: readonly string[], tickets: readonly Ticket[], dryRun: boolean, note?: string): void;
  selectionFailed(selector: string, kind: string, error: string, tickets: readonly Ticket[]): void;
  finished(report: PatchReport): void;
  pending(count: number): void;
}

export interface Reconciler {
  /** Reconciles what each item owes: its object, or the objects of its label query once listed. */
  submit(items: readonly WorkItem[]): void;
  /** Objects with a patch running or waiting, plus label selectors being listed. */
  pending(): number;
  /** Starts every waiting patch at once, keeps patching what still arrives, and waits (bounded) until nothing is left. */
  shutdown(timeoutMs: number): Promise<{ unfinished: number }>;
}

export interface ReconcilerOptions {
  client: KubeClient;
  dryRun: boolean;
  debounceMs: number;
  dispatcher: Dispatcher;
  selection: LabelSelection;
  clock: Clock;
  /** Source of requestedAt tokens (kinds.ts createRequestedAtClock), one per process, for items without a value. */
  requestedAt: (now: Date) => string;
  reporter: ReconcileReporter;
  /** Where each patch settles the items it served, and label queries become items of their own. */
  ledger: WorkLedger;
  /** Retries of a patch end this long after the oldest delivery it serves was accepted (`reconcile.retry.maxAge`). */
  maxAgeMs?: number;
  /** Webhooks remembered per waiting patch for reports; more are counted, not kept (bounded memory under a flood). */
  maxTrackedTickets?: number;
  /** Writes an Event on each object patched (not in dry-run); absent: no Events. */
  events?: EventRecorder;
}

/** The work a patch (waiting or running) serves: each item's newest revision, the newest value, the oldest delivery. */
interface Owed {
  /** Usually one item; more when the same object is owed under two ids (a filter's object and a named target). */
  items: Map<string, number>;
  revision: number;
  value?: string;
  since: number;
  tickets: Ticket[];
  untracked: number;
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
  /** What the next patch serves; undefined while nothing waits. */
  waiting?: Owed;
  /** Counted in `busyObjects`: running or waiting. */
  busy: boolean;
}

/**
 * @example
 * const reconciler = createReconciler({ client, dryRun: false, debounceMs: 2000, dispatcher, selection,
 *   clock: systemClock, requestedAt: createRequestedAtClock(), reporter, ledger: journal });
 * reconciler.submit(items);
 */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { selection, clock } = options;
  const objects = new Map<string, ObjectState>();
  const work = workCount(options.reporter, objects);
  /** Aborted when shutdown runs out of time: in-flight attempts and backoffs give up, their work stays owed. */
  const stop = new AbortController();
  const patches = objectPatches(options, objects, work, stop.signal);
  const select = (items: readonly WorkItem[], run: () => Promise<SelectionResult[]>) => {
    work.selecting(items.length);
    void selectThenExpand(items, run, options, () => {
      work.selecting(-items.length);
      work.checkIdle();
    });
  };

  return {
    submit(items) {
      // One delivery's filters are decided together: one evaluation for the delivery.
      const filtered = new Map<number, WorkItem[]>();
      for (const item of items) {
        const { selector } = item;
        if (selector.filter !== undefined) {
          const delivery = item.tickets[0]?.seq ?? item.revision;
          filtered.set(delivery, [...(filtered.get(delivery) ?? []), item]);
        } else if (selector.name !== undefined) {
          // A named object is owed as it is, also when a filter it had was lost with a restart (it could only have excluded it).
          patches.request(item as WorkItem & { selector: { name: string } });
        } else {
          select([item], async () => [await selection.select(selector, stop.signal)]);
        }
      }
      for (const group of filtered.values()) select(group, () => selection.selectFiltered(group.map((item) => item.selector), stop.signal));
    },
    pending: work.count,
    async shutdown(timeoutMs) {
      patches.drain();
      const timer = new AbortController();
      const finished = await Promise.race([work.idle().then(() => true), delay(clock, timeoutMs, timer.signal).then(() => false)]);
      timer.abort();
      if (finished) return { unfinished: 0 };
      const unfinished = work.count();
      // Out of time: give up on backoffs and in-flight requests (each is reported as interrupted, and stays owed).
      stop.abort();
      await work.idle();
      return { unfinished };
    },
  };
}

/** How much is under way (objects busy, selectors being listed), reported as `pending`; and when all of it is done. */
interface WorkCount {
  count(): number;
  /** Counts the object as busy (running or waiting) or not, as it is now. */
  track(state: ObjectState): void;
  selecting(delta: number): void;
  /** Resolves the waiters of `idle` when nothing is left. */
  checkIdle(): void;
  idle(): Promise<void>;
}

function workCount(reporter: ReconcileReporter, objects: ReadonlyMap<string, ObjectState>): WorkCount {
  let busyObjects = 0;
  let selecting = 0;
  const idleWaiters: (() => void)[] = [];
  const count = () => busyObjects + selecting;
  const checkIdle = () => {
    if (objects.size === 0 && selecting === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  };
  return {
    count,
    track(state) {
      const busy = state.running || state.waiting !== undefined;
      if (busy !== state.busy) {
        state.busy = busy;
        busyObjects += busy ? 1 : -1;
        reporter.pending(count());
      }
    },
    selecting(delta) {
      selecting += delta;
      reporter.pending(count());
    },
    checkIdle,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      }),
  };
}

/** The per-object state machine (see the top of this file): owns when each object is patched. */
interface ObjectPatches {
  /** A request for a named object: patched at once when idle, else folded into what waits. */
  request(item: WorkItem & { selector: { name: string } }): void;
  /** Shutdown: no more windows; what waits starts as soon as the running patch ends. */
  drain(): void;
}

function objectPatches(options: ReconcilerOptions, objects: Map<string, ObjectState>, work: WorkCount, stop: AbortSignal): ObjectPatches {
  const { clock, reporter } = options;
  const maxTracked = options.maxTrackedTickets ?? 1000;
  let draining = false;

  function start(state: ObjectState): void {
    const owed = state.waiting!;
    state.running = true;
    state.waiting = undefined;
    if (!draining) {
      state.window = clock.setTimer(() => {
        state.window = undefined;
        advance(state);
      }, options.debounceMs);
    }
    // One value per patch, kept across its retries: Flux treats it as an opaque token. The journal minted it when the
    // newest delivery was accepted, so a patch repeated after a crash writes the same value.
    const value = state.annotation.fixedValue ?? owed.value ?? options.requestedAt(new Date(clock.now()));
    const annotations = { [state.annotation.key]: value };
    reporter.queued(state.label, owed.tickets);
    let uid: string | undefined;
    const attempt = async (signal: AbortSignal) => {
      uid = (await options.client.mergePatch(state.ref, annotations, signal)).uid;
    };
    const deadline = options.maxAgeMs === undefined ? undefined : owed.since + options.maxAgeMs;
    void options.dispatcher.run({ kind: state.ref.kind, label: state.label, attempt, ...(deadline !== undefined ? { deadline } : {}) }, stop).then((result) => {
      state.running = false;
      patched(state, owed, result, uid, options, value);
      advance(state);
    });
  }

  /** After the window closed or the patch ended: the trailing patch, or back to idle. */
  function advance(state: ObjectState): void {
    if (!state.running && state.window === undefined) {
      if (state.waiting !== undefined) start(state);
      else objects.delete(state.key);
    }
    work.track(state);
    work.checkIdle();
  }

  return {
    request(item) {
      const state = stateOf(objects, item.selector, item.selector.name);
      const idle = !state.running && state.window === undefined;
      if (!idle) {
        for (const ticket of item.tickets) {
          if (state.waiting === undefined) reporter.queued(state.label, [ticket]);
          else reporter.coalesced(state.label, ticket);
        }
      }
      state.waiting = owe(state.waiting, item, maxTracked);
      if (idle) start(state);
      work.track(state);
    },
    drain() {
      draining = true;
      for (const state of [...objects.values()]) {
        if (state.window !== undefined) clock.clearTimer(state.window);
        state.window = undefined;
        advance(state);
      }
    },
  };
}

/** The object's state, created idle the first time it is owed. */
function stateOf(objects: Map<string, ObjectState>, selector: ObjectSelector, name: string): ObjectState {
  const key = objectKey(selector, name);
  let state = objects.get(key);
  if (!state) {
    const ref = { apiVersion: selector.apiVersion, kind: selector.kind, namespace: selector.namespace, name };
    state = { key, ref, label: `${selector.kind} ${selector.namespace}/${name}`, annotation: selector.annotation, running: false, window: undefined, busy: false };
    objects.set(key, state);
  }
  return state;
}

/** `item` folded into what waits: tickets beyond `maxTracked` are counted, not kept. */
function owe(waiting: Owed | undefined, item: WorkItem, maxTracked: number): Owed {
  const owed: Owed = waiting ?? { items: new Map(), revision: item.revision, since: item.since, tickets: [], untracked: 0 };
  owed.items.set(item.id, Math.max(owed.items.get(item.id) ?? 0, item.revision));
  if (item.revision >= owed.revision) {
    owed.revision = item.revision;
    if (item.value !== undefined) owed.value = item.value;
  }
  owed.since = Math.min(owed.since, item.since);
  owed.untracked += item.untracked;
  for (const ticket of item.tickets) {
    if (owed.tickets.length < maxTracked) owed.tickets.push(ticket);
    else owed.untracked += 1;
  }
  return owed;
}

/** A patch ended: its Event, its report, and the items it served settled (an interrupted one settles nothing). */
function patched(state: ObjectState, owed: Owed, result: JobResult, uid: string | undefined, options: ReconcilerOptions, value: string): void {
  const { dryRun, reporter, ledger } = options;
  const base = { object: state.label, kind: state.ref.kind, attempts: result.attempts, tickets: owed.tickets, untracked: owed.untracked, endedAt: options.clock.now(), ref: state.ref, annotation: { key: state.annotation.key, value } };
  if (result.ok && !dryRun) options.events?.requested(state.ref, uid, owed.tickets, owed.untracked);
  if (result.ok) {
    reporter.finished({ ...base, outcome: dryRun ? 'dry_run' : 'success' });
    for (const [id, revision] of owed.items) ledger.settle(id, revision, { kind: 'done' });
  } else {
    reporter.finished({ ...base, outcome: result.outcome, error: result.error, retriesExhausted: result.retriesExhausted, ...(result.interrupted ? { interrupted: true } : {}) });
    const failed = { kind: 'failed', outcome: result.outcome, error: result.error, attempts: result.attempts } as const;
    if (!result.interrupted) for (const [id, revision] of owed.items) ledger.settle(id, revision, failed);
  }
}

/**
 * Resolves the items' selectors with `select` (a result per item, in order) and hands each one's names to the
 * journal; `done` when it is over, whatever happened.
 */
async function selectThenExpand(items: readonly WorkItem[], select: () => Promise<SelectionResult[]>, options: ReconcilerOptions, done: () => void): Promise<void> {
  const { reporter, ledger } = options;
  for (const item of items) reporter.queued(item.selector.label, item.tickets);
  try {
    const results = await select();
    items.forEach((item, index) => {
      const { selector } = item;
      const result = results[index]!;
      if (!result.ok) {
        reporter.selectionFailed(selector.label, selector.kind, result.error, item.tickets);
        if (!result.interrupted) ledger.settle(item.id, item.revision, { kind: 'failed', outcome: result.outcome, error: result.error, attempts: result.attempts });
        return;
      }
      // Read back from the journal, a filtered item has lost its filter: every object the selector names is owed.
      const note = item.filtered && selector.filter === undefined ? 'the filter was bound to a delivery accepted before a restart: every object the selector names is reconciled' : undefined;
      reporter.selected(selector.label, result.names, item.tickets, options.dryRun, note);
      if (result.problems !== undefined) reporter.selectionFailed(selector.label, selector.kind, result.problems, item.tickets);
      ledger.expand(item, result.names);
    });
  } finally {
    done();
  }
}

function objectKey(selector: ObjectSelector, name: string): string {
  return `${selector.apiVersion}|${selector.kind}|${selector.namespace}|${name}|${selector.annotation.key}`;
}
