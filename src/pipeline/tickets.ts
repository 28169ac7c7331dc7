/**
 * Mints the ticket of each accepted webhook: the sequence number reconcile reports against and the time it was
 * accepted. The pipeline owns this counter; observers only receive tickets.
 */
import type { Ticket } from '../reconcile/reconciler.ts';

/**
 * @example
 * const mint = createTicketMinter(() => clock.now());
 * mint(); // { seq: 1, acceptedAt: 1764064800000 }
 */
export function createTicketMinter(now: () => number): () => Ticket {
  let seq = 0;
  return () => ({ seq: ++seq, acceptedAt: now() });
}
