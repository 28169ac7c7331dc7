/**
 * The journal's group commit: the deliveries accepted in one burst of I/O are written together, after it, and each
 * is answered once its write went through (or refused when it did not). It owns the deliveries waiting for a write
 * and the store's health; the journal owns what the write contains.
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

/** What one commit writes, and what the journal does once it is written. */
export interface PreparedCommit {
  changes: JournalChanges;
  written(): void;
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
  /** A store opened only now (it could not be at start) read this back: the journal takes it over first. */
  takeOver(state: JournalState): void;
  /** The changes to write with these deliveries, from the journal that owns them. */
  prepare(batch: readonly Staged[]): PreparedCommit;
}

export interface GroupCommit {
  /** Holds a delivery for the next commit, and asks for one. */
  stage(entry: Staged): void;
  /** Asks for a commit after the current burst. */
  schedule(): void;
  /** Items of this cluster waiting for a write: they count as owed when room is judged. */
  stagedIn(cluster: string | undefined): number;
  /** Commits now when a delivery waits, a commit was asked for, or `changed` (the journal has something to write). */
  flush(changed: boolean): void;
  /** Commits now even with nothing to write, so a store that failed can show it works again. */
  check(): void;
  health(): { ok: true } | { ok: false; error: string };
}

/**
 * @example
 * const commits = createGroupCommit({ writer, dedupe, committed, defer: setImmediate, takeOver, prepare });
 * commits.stage({ ticket, items, provider: 'github', resolve }); // answered after the write
 */
export function createGroupCommit(options: GroupCommitOptions): GroupCommit {
  const { writer } = options;
  let staged: Staged[] = [];
  let scheduled = false;
  let lastError = options.initialError;
  let checking = false;

  function commit(): void {
    scheduled = false;
    let error = attempt(() => {
      const opened = writer.open?.();
      if (opened) options.takeOver(opened);
    });
    const batch = staged;
    staged = [];
    const prepared = options.prepare(batch);
    const started = performance.now();
    if (error === undefined) error = attempt(() => writer.write(prepared.changes));
    options.committed(performance.now() - started, batch.length, error);
    // Health follows the commits that carry deliveries (or a check): a small write of the delivery log squeezing
    // into the last free bytes of a full disk does not make the store look writable again.
    if (error !== undefined || batch.length > 0 || checking) lastError = error;
    if (error !== undefined) {
      refuse(batch, error, options.dedupe);
      return;
    }
    prepared.written();
    for (const entry of batch) entry.resolve({ kind: 'accepted', ticket: entry.ticket });
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    options.defer(() => {
      if (scheduled) commit();
    });
  }

  return {
    stage(entry) {
      staged.push(entry);
      schedule();
    },
    schedule,
    stagedIn(cluster) {
      let count = 0;
      for (const entry of staged) for (const item of entry.items) if (item.cluster === cluster) count += 1;
      return count;
    },
    flush(changed) {
      if (staged.length > 0 || changed || scheduled) commit();
    },
    check() {
      checking = true;
      try {
        commit();
      } finally {
        checking = false;
      }
    },
    health: () => (lastError === undefined ? { ok: true } : { ok: false, error: lastError }),
  };
}

/** Runs `write`; the message of what it threw, or undefined when it went through. */
function attempt(write: () => void): string | undefined {
  try {
    write();
    return undefined;
  } catch (caught) {
    return caught instanceof Error ? caught.message : String(caught);
  }
}

/** The write failed: nothing of the batch is accepted, and its delivery ids are forgotten so a retry is no duplicate. */
function refuse(batch: readonly Staged[], error: string, dedupe: DeliveryDeduper): void {
  for (const entry of batch) {
    if (entry.deliveryId !== undefined) dedupe.forget(entry.provider, entry.deliveryId);
    entry.resolve({ kind: 'unavailable', reason: `the state store cannot be written: ${error}` });
  }
}
