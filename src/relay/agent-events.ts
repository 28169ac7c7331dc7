/**
 * What an agent does with a relayed event: the webhook path after its verify step. The event is matched against
 * the targets that name the upstream and looked up in discovery, then accepted into the agent's own journal with
 * its event id as the delivery id (a redelivery after a reconnect is a duplicate); only then is it acknowledged.
 * A `gap` (events lost at the edge) asks for a reconcile of everything the agent watches.
 */
import type { TicketCause, Ticket } from '../core/index.ts';
import { cutText, redactUrl } from '../core/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import { matchTargets, type Acceptor, type CompiledTarget, type DiscoveredRequest, type DiscoveryResult, type RelayEvent, type TargetIndex } from '../pipeline/index.ts';
import type { Event } from '../provider-kit/index.ts';
import { NotTaken } from './agent-stream.ts';

/** The upstream as the agent's pipeline sees it: its name (what targets list in `providers`) and those targets. */
export interface AgentSource {
  name: string;
  targets: TargetIndex<CompiledTarget>;
}

export interface TakeDeps {
  journal: Acceptor;
  source(): AgentSource;
  /** Discovery's objects for these events (undefined: discovery is off, or not for this source). */
  discover?(provider: string, events: readonly Event[]): DiscoveryResult | undefined;
  /** Every object discovery holds for this source (a gap). */
  everything?(provider: string): DiscoveredRequest[];
  /** False once shutdown has begun. */
  accepting(): boolean;
}

/** What became of an event. */
export type Taken =
  | { kind: 'accepted'; ticket: Ticket; targets: string[]; discovered?: DiscoveryResult }
  | { kind: 'duplicate' }
  | { kind: 'ignored'; reason: string };

/**
 * @example
 * const taken = await takeEvent('lqz3k2-42', relayed, deps); // { kind: 'accepted', ticket, targets: ['app'] }
 */
export async function takeEvent(id: string, relayed: RelayEvent, deps: TakeDeps): Promise<Taken> {
  const source = deps.source();
  const events = [relayed.event];
  const match = matchTargets(source, events);
  const found = deps.discover?.(source.name, events);
  const discovered = found?.requests ?? [];
  if (match.targets.length === 0 && discovered.length === 0) {
    const reason = !found ? match.reason : source.targets.size === 0 ? found.reason : `${match.reason}; discovery: ${found.reason}`;
    return { kind: 'ignored', reason };
  }
  const selectors = [...match.selectors, ...discovered.map((request) => request.selector)];
  const outcome = await accept(deps, { provider: source.name, deliveryId: id, cause: causeOf(source.name, id, relayed.event), selectors });
  if (outcome.kind === 'duplicate') return outcome;
  return { kind: 'accepted', ticket: outcome.ticket, targets: match.targets, ...(found ? { discovered: found } : {}) };
}

/** A gap: every object the targets of this source name, and every one discovery holds, reconciled once. */
export async function takeGap(id: string, deps: TakeDeps): Promise<{ ticket?: Ticket; objects: number }> {
  const source = deps.source();
  const selectors = new Map<string, ObjectSelector>();
  for (const target of source.targets.all) for (const selector of target.selectors) selectors.set(selector.key, selector);
  for (const request of deps.everything?.(source.name) ?? []) selectors.set(request.selector.key, request.selector);
  if (selectors.size === 0) return { objects: 0 };
  const outcome = await accept(deps, { provider: source.name, deliveryId: id, cause: { provider: source.name, event: 'gap', deliveryId: cutText(id) }, selectors: [...selectors.values()] });
  return outcome.kind === 'accepted' ? { ticket: outcome.ticket, objects: selectors.size } : { objects: 0 };
}

/** Accepted or a duplicate; anything else ends the connection (the edge keeps the event until it is taken). */
async function accept(deps: TakeDeps, delivery: Parameters<Acceptor['accept']>[0]): Promise<{ kind: 'accepted'; ticket: Ticket } | { kind: 'duplicate' }> {
  if (!deps.accepting()) throw new NotTaken('shutting down');
  const outcome = await deps.journal.accept(delivery);
  if (outcome.kind === 'full') throw new NotTaken('the reconcile queue is full (reconcile.maxPending)');
  if (outcome.kind === 'unavailable') throw new NotTaken(outcome.reason);
  return outcome;
}

/** As the webhook path makes it (pipeline/handle-webhook.ts causeOf): cut, and the repository without credentials. */
function causeOf(source: string, id: string, event: Event): TicketCause {
  const repository = event.repositories[0] ?? event.image?.name;
  const ref = event.ref ?? event.tag;
  return {
    provider: source,
    event: cutText(event.event),
    ...(repository ? { repository: cutText(redactUrl(repository)) } : {}),
    ...(ref ? { ref: cutText(ref) } : {}),
    ...(event.commit ? { commit: cutText(event.commit) } : {}),
    deliveryId: cutText(id),
  };
}
