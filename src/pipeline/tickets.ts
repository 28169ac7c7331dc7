/**
 * Mints the ticket of each accepted webhook: the sequence number reconcile reports against and the time it was
 * accepted. The pipeline owns this counter; observers only receive tickets.
 */
import type { TicketCause } from '../reconcile/kube-events.ts';
import type { Ticket } from '../reconcile/reconciler.ts';

/**
 * @example
 * const mint = createTicketMinter(() => clock.now());
 * mint({ provider: 'github', repository: 'your-org/your-repo' }); // { seq: 1, acceptedAt: 1764064800000, cause: { … } }
 */
export function createTicketMinter(now: () => number): (cause?: TicketCause) => Ticket {
  let seq = 0;
  return (cause) => ({ seq: ++seq, acceptedAt: now(), ...(cause ? { cause } : {}) });
}
