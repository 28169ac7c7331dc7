/**
 * The vocabulary of an accepted webhook as everything after the verify step sees it: the ticket the journal mints
 * (its sequence, when it was accepted) and what the delivery was, for reports and Events.
 */

/** What caused a reconcile request, as the pipeline knows it; carried on the ticket. */
export interface TicketCause {
  provider: string;
  event?: string;
  repository?: string;
  ref?: string;
  commit?: string;
  deliveryId?: string;
  /** The provider's type (`github`), so a commit status goes to the host that sent the push. */
  type?: string;
  /** When the push happened, as the payload says (ms since the epoch); see push-time.ts for when it is believed. */
  pushedAt?: number;
}

/** One accepted webhook, as far as reconcile is concerned; minted by the journal when it keeps the delivery. */
export interface Ticket {
  seq: number;
  acceptedAt: number;
  /** What the delivery was, for the Event on each object it patched. */
  cause?: TicketCause;
}

