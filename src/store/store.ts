/**
 * What every store is and is opened with, whichever `state.store` names (open-store.ts opens memory and sqlite,
 * nats-store.ts the shared one), and the defaults they share.
 */
import type { StateConfig } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { Clock } from '../core/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';
import type { WorkItem } from '../reconcile/index.ts';
import type { DeliveryLog } from './delivery-log.ts';
import type { Journal, JournalReporter } from './journal.ts';
import type { RelayLog, RelayRetention } from './relay-log.ts';

/**
 * Deliveries are remembered this long to drop providers' redeliveries. Longer than the 10 minutes a
 * timestamp-signed delivery (Standard Webhooks, ±5 minutes) stays acceptable, so no replay outlives its record.
 */
export const DEDUPE_WINDOW_MS = 11 * 60_000;

export interface StoreOptions {
  state: StateConfig;
  /** Relative `state.path` is taken from here (the config file's directory). */
  configDir: string;
  env: Record<string, string | undefined>;
  clusters: readonly (string | undefined)[];
  maxPending: number;
  /** Delivery records kept (admin.recentDeliveries). */
  recentDeliveries: number;
  requestedAt: (now: Date) => string;
  clock: Clock;
  log: Logger;
  reporter: JournalReporter;
  feed(items: readonly WorkItem[]): void;
  refused?(cluster: string | undefined, ticket: Ticket, selectors: readonly ObjectSelector[]): void;
  /** A store file that could not be read was moved aside (logged here too). */
  movedAside?(to: string): void;
  /** A shared store's replica reports (`store: nats`). */
  replica?: ReplicaReporter;
  /** `relay.retention` on a relay's edge (else events are never kept). */
  relayRetention?: RelayRetention;
}

/** What a replica of a shared store reports beside the journal (observe/journal-reporter.ts createReplicaReporter). */
export interface ReplicaReporter {
  /** A store operation other than a commit failed: `settle`, `lease`, `materialize`, `log`… */
  failed(operation: string): void;
  /** Partitions this replica owns, and the work items owed in them. */
  owned(partitions: number, items: number): void;
  /** This replica took a partition. */
  acquired(): void;
}

export interface Store {
  kind: StateConfig['store'];
  /** For the log and the status page: `sqlite: /var/lib/fluxgate/fluxgate.db`. */
  describe: string;
  /** False: a restart loses what is owed (`store: memory`). */
  durable: boolean;
  journal: Journal;
  deliveries: DeliveryLog;
  /** The events a relay's edge keeps for its subscribers (empty elsewhere). */
  relay: RelayLog;
  /** Bytes on disk (sqlite), for the metric and the page. */
  sizeBytes(): number | undefined;
  /** Writes what waits, stops retention and closes the file. */
  close(): Promise<void>;
}

/** Retention of a store whose config has no relay: nothing is published to it anyway. */
export const DEFAULT_RELAY_RETENTION: RelayRetention = { maxEvents: 10_000, maxAgeMs: 72 * 3_600_000 };
