/**
 * What the journal and a durable store (sqlite, NATS JetStream) exchange: the changes one commit writes, and the
 * state a store reads back at start.
 */
import type { WorkItem } from '../reconcile/index.ts';
import type { FailureRecord } from './failure-list.ts';
import type { RelayChanges, RelayState } from './relay-log.ts';

/** Everything a commit writes: items and failures by key (null: deleted), delivery ids, the next ticket. */
export interface JournalChanges {
  items: ReadonlyMap<string, WorkItem | null>;
  failures: ReadonlyMap<number, FailureRecord | null>;
  seen: readonly { provider: string; deliveryId: string; at: number }[];
  nextSeq: number;
  /** On a relay's edge: the events kept for subscribers with these deliveries, acknowledgements, retention. */
  relay?: RelayChanges;
}

/**
 * Writes one commit, all or nothing; throws (or rejects) when it cannot, and the journal answers 503. A writer that
 * answers with a promise (sqlite syncing its log to disk, NATS) lets the event loop go on while the commit reaches the disk;
 * the journal keeps one commit in flight and gathers what comes meanwhile into the next.
 */
export interface JournalWriter {
  write(changes: JournalChanges): void | Promise<void>;
  /**
   * Called before each commit; throws when the store cannot be reached. A store that could not be opened at start
   * and is open now hands back what it read, once: the journal takes it over before anything else is written.
   */
  open?(): JournalState | undefined | Promise<JournalState | undefined>;
}

/** What a durable store read back at start. */
export interface JournalState {
  items: readonly WorkItem[];
  failures: readonly FailureRecord[];
  seen: readonly { provider: string; deliveryId: string; at: number }[];
  nextSeq: number;
  relay?: RelayState;
}
