/**
 * What reconcile is handed and what it reports back: work items (one per object or label query and cluster, owed
 * by accepted webhooks and kept by the journal until settled) and the ledger a patch settles them with.
 */
import type { ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';

/**
 * One object (or label query) an accepted delivery asked to reconcile, in one cluster: the unit the journal keeps,
 * reconcile patches and the store settles. Items for the same object fold into one: the newest revision, value and
 * tickets win, `since` stays the oldest.
 */
export interface WorkItem {
  /** `cluster NUL object`: two deliveries naming the same object in the same cluster share it. */
  readonly id: string;
  /** The cluster (from `clusters:`); undefined with the single `kubernetes:` connection. */
  readonly cluster?: string;
  /** A named object, or a label query that reconcile resolves into named items (`expand`). */
  readonly selector: ObjectSelector;
  /** Grows with every delivery folded in; a patch settles the revisions up to the one it started with. */
  readonly revision: number;
  /** The annotation value the patch writes, minted when the newest delivery was accepted (undefined: minted at the patch). */
  readonly value?: string;
  /** The deliveries this item serves, newest last (at most `MAX_ITEM_TICKETS`; more are counted in `untracked`). */
  readonly tickets: readonly Ticket[];
  readonly untracked: number;
  /** When the oldest delivery it serves was accepted: retries end `reconcile.retry.maxAge` after it. */
  readonly since: number;
  /**
   * True when the selector had a filter bound to the delivery's body (a Receiver's resourceFilter): the filter
   * lives only in the process that accepted it, so an item read back from the store reconciles every object the
   * selector names.
   */
  readonly filtered?: boolean;
}

/** How a patch ended, as far as the journal is concerned. */
export type Settlement =
  /** Patched (or logged in dry-run): the item's work up to `revision` is done. */
  | { kind: 'done' }
  /** An answer that will not change (404, 403, 422…) or retries past `maxAge`: kept as a failure to retry by hand. */
  | { kind: 'failed'; outcome: string; error: string; attempts: number };

/** What reconcile tells the journal; implemented by the store. */
export interface WorkLedger {
  /** The patch of item `id` that started with `revision` ended (an interrupted one is not reported: it stays owed). */
  settle(id: string, revision: number, settlement: Settlement): void;
  /** A label query was resolved: its objects become items of their own, and the query's item is settled. */
  expand(item: WorkItem, names: readonly string[]): void;
}

