/**
 * The failures the journal keeps for a retry by hand (`fluxgate retry`, the status page), oldest first and at most
 * `max`, with what changed since the last commit so a durable store writes only that.
 */
import type { Settlement, WorkItem } from '../reconcile/index.ts';

/** A failure kept for a retry by hand: the item as it was owed, and why it ended. */
export interface FailureRecord {
  seq: number;
  item: WorkItem;
  outcome: string;
  error: string;
  attempts: number;
  failedAt: number;
}

export interface FailureList {
  /** Failures a store read back (their seqs are kept, so the next one numbers after them). */
  load(records: readonly FailureRecord[]): void;
  /** Keeps a failure that ended at `at`, dropping the oldest beyond the limit. */
  keep(item: WorkItem, settlement: Extract<Settlement, { kind: 'failed' }>, at: number): void;
  /** Removes and returns the failures with these seqs (all when absent), to be owed again. */
  take(seqs?: readonly number[]): FailureRecord[];
  /** Drops failures that ended before `time`. */
  expire(time: number): void;
  all(): FailureRecord[];
  size(): number;
  /** Changed since the last commit, by seq (null: removed). */
  changes(): ReadonlyMap<number, FailureRecord | null>;
  /** A commit wrote these changes (those changed again since stay for the next one). */
  written(sent: ReadonlyMap<number, FailureRecord | null>): void;
}

/**
 * @example
 * const failures = createFailureList(1000);
 * failures.keep(item, { kind: 'failed', outcome: 'not-found', error: '404', attempts: 1 }, clock.now());
 */
export function createFailureList(max: number): FailureList {
  const failures = new Map<number, FailureRecord>();
  const changed = new Map<number, FailureRecord | null>();
  let next = 1;
  const remove = (seq: number) => {
    failures.delete(seq);
    changed.set(seq, null);
  };
  return {
    load(records) {
      for (const failure of records) {
        failures.set(failure.seq, failure);
        next = Math.max(next, failure.seq + 1);
      }
    },
    keep(item, settlement, at) {
      const failure: FailureRecord = { seq: next++, item, outcome: settlement.outcome, error: settlement.error, attempts: settlement.attempts, failedAt: at };
      failures.set(failure.seq, failure);
      changed.set(failure.seq, failure);
      // A Map iterates in insertion order: the first entries are the oldest.
      for (const [seq] of failures) {
        if (failures.size <= max) break;
        remove(seq);
      }
    },
    take(seqs) {
      const chosen = seqs === undefined ? [...failures.values()] : seqs.flatMap((seq) => failures.get(seq) ?? []);
      for (const failure of chosen) remove(failure.seq);
      return chosen;
    },
    expire(time) {
      for (const [seq, failure] of failures) if (failure.failedAt < time) remove(seq);
    },
    all: () => [...failures.values()],
    size: () => failures.size,
    changes: () => changed,
    written(sent) {
      for (const [seq, failure] of sent) if (changed.get(seq) === failure) changed.delete(seq);
    },
  };
}
