/**
 * The journal's group commit: the deliveries accepted in one burst of I/O are written together, after it, and each
 * is answered once its write went through (or refused when it did not). It owns the deliveries waiting for a write,
 * the one commit in flight, and the store's health; the journal owns what the write contains.
 *
 * A writer that answers at once is committed in the same turn. One that answers with a promise (sqlite syncing its
 * log to disk, NATS) keeps one commit in flight: what is accepted or changes meanwhile waits for the next, which starts
 * as soon as the one in flight ends — so a burst that arrives during a sync to disk shares the next one.
 */
import type { Ticket } from '../core/index.ts';
import type { AcceptOutcome, RelayPublication } from '../pipeline/index.ts';
import type { WorkItem } from '../reconcile/index.ts';
import type { DeliveryDeduper } from './dedupe.ts';
import type { JournalChanges, JournalState, JournalWriter } from './journal-store.ts';

/** A delivery accepted but not yet written: its items, and the answer it waits for. */
export interface Staged {
  ticket: Ticket;
  items: WorkItem[];
  provider: string;
  deliveryId?: string;
  /** Events kept for a relay's subscribers, written with the items. */
  relay?: readonly RelayPublication[];
  resolve(outcome: AcceptOutcome): void;
}

/** What one commit writes, and what the journal does once it is written (or not). */
export interface PreparedCommit {
  changes: JournalChanges;
  written(): void;
  /** The write failed: what it carried besides the deliveries is written by a later commit. */
  failed(): void;
}

export interface GroupCommitOptions {
  writer: JournalWriter;
  dedupe: DeliveryDeduper;
  /** A commit ended: its duration, the deliveries it carried, and the error when it failed. */
  committed(durationMs: number, deliveries: number, error?: string): void;
  /** The store could not be opened at start: unhealthy until a commit succeeds. */
  initialError?: string;
  /** Runs the commit after the current burst of I/O. */
  defer: (run: () => void) => void;
  /** Runs a commit of changes without deliveries, a little later. */
  deferLazily: (run: () => void) => void;
  /** A store opened only now (it could not be at start) read this back: the journal takes it over first. */
  takeOver(state: JournalState): void;
  /** The changes to write with these deliveries, from the journal that owns them. */
  prepare(batch: readonly Staged[]): PreparedCommit;
  /** Whether the journal has changes of its own to write (settled items, failures, records). */
  changed(): boolean;
}

export interface GroupCommit {
  /** Holds a delivery for the next commit, and asks for one. */
  stage(entry: Staged): void;
  /** Asks for a commit after the current burst. */
  schedule(): void;
  /** Asks for a commit a little later, unless one for a delivery comes first (changes that promise nothing to a sender). */
  scheduleLazily(): void;
  /** Items of this cluster waiting for a write: they count as owed when room is judged. */
  stagedIn(cluster: string | undefined): number;
  /** Writes what waits now (after the commit in flight, if any); resolves once nothing is left to write. */
  flush(): Promise<void>;
  /** Commits now even with nothing to write, so a store that failed can show it works again. */
  check(): Promise<void>;
  health(): { ok: true } | { ok: false; error: string };
}

/**
 * @example
 * const commits = createGroupCommit({ writer, dedupe, committed, defer: setImmediate, takeOver, prepare, changed });
 * commits.stage({ ticket, items, provider: 'github', resolve }); // answered after the write
 */
export function createGroupCommit(options: GroupCommitOptions): GroupCommit {
  const state: CommitState = { staged: [], scheduled: false, lazy: false, inFlight: undefined, lastError: options.initialError };

  const schedule = (): void => {
    if (state.scheduled) return;
    state.scheduled = true;
    options.defer(() => {
      if (state.scheduled && state.inFlight === undefined) commit(state, options, false, scheduleLazily);
    });
  };

  const scheduleLazily = (): void => {
    if (state.scheduled || state.lazy) return;
    state.lazy = true;
    options.deferLazily(() => {
      if (!state.lazy) return; // a commit took the changes meanwhile
      state.lazy = false;
      schedule();
    });
  };

  return {
    stage(entry) {
      state.staged.push(entry);
      schedule();
    },
    schedule,
    scheduleLazily,
    stagedIn(cluster) {
      let count = 0;
      for (const entry of state.staged) for (const item of entry.items) if (item.cluster === cluster) count += 1;
      return count;
    },
    async flush() {
      // The commit in flight, and the one it hands over to (what waited for it), then what is left now.
      for (let round = 0; round < 2 && state.inFlight !== undefined; round += 1) await state.inFlight;
      const waiting = state.staged.length > 0 || state.scheduled || options.changed();
      // A store that just failed is not pressed again here: its check tries again.
      if (state.inFlight === undefined && waiting && (state.lastError === undefined || state.staged.length > 0)) await commit(state, options, false, scheduleLazily);
    },
    async check() {
      while (state.inFlight !== undefined) await state.inFlight;
      await commit(state, options, true, scheduleLazily);
    },
    health: () => (state.lastError === undefined ? { ok: true } : { ok: false, error: state.lastError }),
  };
}

interface CommitState {
  staged: Staged[];
  scheduled: boolean;
  /** A lazy commit is asked for. */
  lazy: boolean;
  /** The commit a writer answered with a promise for, until it ends. */
  inFlight: Promise<void> | undefined;
  lastError: string | undefined;
}

/** One commit: open (if the store could not be before), write, answer the batch; at once, or once the writer's promise ends. */
function commit(state: CommitState, options: GroupCommitOptions, checking: boolean, later: () => void): Promise<void> {
  state.scheduled = false;
  state.lazy = false;
  const batch = state.staged;
  state.staged = [];
  const started = performance.now();
  const finish = (prepared: PreparedCommit | undefined, error: string | undefined) => {
    options.committed(performance.now() - started, batch.length, error);
    // Health follows the commits that carry deliveries (or a check): a small write of the delivery log squeezing
    // into the last free bytes of a full disk does not make the store look writable again.
    if (error !== undefined || batch.length > 0 || checking) state.lastError = error;
    if (error !== undefined) {
      prepared?.failed();
      refuse(batch, error, options.dedupe);
      return;
    }
    prepared!.written();
    for (const entry of batch) entry.resolve({ kind: 'accepted', ticket: entry.ticket });
  };
  const write = (openError: string | undefined): void | Promise<void> => {
    if (openError !== undefined) return finish(undefined, openError);
    const prepared = options.prepare(batch);
    return settled(() => options.writer.write(prepared.changes), (error) => finish(prepared, error));
  };
  let openError: string | undefined;
  const opening = settled(
    () => {
      const taken = options.writer.open?.();
      if (taken instanceof Promise) return taken.then((read) => read && options.takeOver(read));
      if (taken) options.takeOver(taken);
      return undefined;
    },
    (error) => void (openError = error),
  );
  const done = opening instanceof Promise ? opening.then(() => write(openError)) : write(openError);
  if (!(done instanceof Promise)) return Promise.resolve();
  const flight: Promise<void> = done.finally(() => {
    if (state.inFlight === flight) state.inFlight = undefined;
    // What arrived while the commit was in flight goes now, in one commit of its own. After a failure only new
    // deliveries do: changes that could not be written wait for the next delivery or the store's check, not a loop.
    const waiting = state.staged.length > 0 || state.scheduled;
    if (waiting) void commit(state, options, false, later);
    else if (state.lastError === undefined && options.changed()) later(); // what changed meanwhile without a delivery
  });
  state.inFlight = flight;
  return flight;
}

/**
 * Runs `action` and hands `then` the message of what it threw or rejected with (undefined when it went through):
 * in the same turn when it answered at once, after its promise otherwise.
 */
function settled(action: () => unknown, then: (error: string | undefined) => void): void | Promise<void> {
  const message = (caught: unknown) => (caught instanceof Error ? caught.message : String(caught));
  let result: unknown;
  try {
    result = action();
  } catch (caught) {
    return then(message(caught));
  }
  if (result instanceof Promise) return result.then(() => then(undefined), (caught: unknown) => then(message(caught)));
  return then(undefined);
}

/** The write failed: nothing of the batch is accepted, and its delivery ids are forgotten so a retry is no duplicate. */
function refuse(batch: readonly Staged[], error: string, dedupe: DeliveryDeduper): void {
  for (const entry of batch) {
    if (entry.deliveryId !== undefined) dedupe.forget(entry.provider, entry.deliveryId);
    entry.resolve({ kind: 'unavailable', reason: `the state store cannot be written: ${error}` });
  }
}
