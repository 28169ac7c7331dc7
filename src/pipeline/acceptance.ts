/**
 * The pipeline's port to the journal: an accepted delivery is handed over, and the answer depends on whether the
 * journal kept it. Implemented by the store.
 */
import type { TicketCause } from '../core/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';
import type { RelayPublication } from './relay-port.ts';

/** The journal's view of an accepted delivery, as the pipeline hands it over. */
export interface AcceptedDelivery {
  provider: string;
  deliveryId?: string;
  cause: TicketCause;
  /** What to reconcile, each with the clusters it names (undefined: every cluster). */
  selectors: readonly ObjectSelector[];
  /** On a relay's edge: the events kept for subscribers, in the same commit as the delivery. */
  relay?: readonly RelayPublication[];
}

export type AcceptOutcome =
  | { kind: 'accepted'; ticket: Ticket }
  /** The provider's delivery id was accepted before (within the dedupe window). */
  | { kind: 'duplicate' }
  /** No cluster it concerns has room (`reconcile.maxPending`). */
  | { kind: 'full' }
  /** The store could not keep it: nothing was accepted, the sender should retry. */
  | { kind: 'unavailable'; reason: string };

export interface Acceptor {
  /** Keeps the delivery's work (durably, with a durable store) before it is answered 202. */
  accept(delivery: AcceptedDelivery): AcceptOutcome | Promise<AcceptOutcome>;
}
