/**
 * Why a delivery would (not) reconcile what: the pipeline's own decision (`decide`), plus, for people, every
 * target of the provider with its verdict — the webhook path evaluates only the targets its index finds and
 * answers with at most ten reasons; an explanation lists them all.
 */
import type { CompiledTarget, ProviderRuntime } from './compile.ts';
import { decide, type Decision } from './handle-webhook.ts';
import type { Event, VerifiedInfo, WebhookRequest } from '../provider-kit/index.ts';

export interface TargetVerdict {
  target: string;
  matched: boolean;
  /** Why it does not match the first event (when none matched). */
  reason?: string;
  /** What it would reconcile (`GitRepository flux-system/app`), when matched. */
  objects: string[];
}

export interface Explanation {
  decision: Decision['kind'];
  /** Why nothing would be reconciled before targets were even considered (ping, event filter, malformed). */
  reason?: string;
  event?: Event;
  /** Every target of the provider, in config order (empty when the decision came before matching). */
  targets: TargetVerdict[];
}

function verdict(target: CompiledTarget, events: readonly Event[]): TargetVerdict {
  let reason: string | undefined;
  for (const event of events) {
    const result = target.match(event);
    if (result.matched) return { target: target.name, matched: true, objects: target.selectors.map((selector) => selector.label) };
    reason ??= result.reason;
  }
  return { target: target.name, matched: false, reason, objects: [] };
}

/**
 * Explains a delivery that was not verified (explain runs offline): `info` is what the headers say.
 *
 * @example
 * explainDelivery(provider, { body, headers }, provider.codec.describe(headers)).explanation;
 * // { decision: 'matched', targets: [{ target: 'app', matched: true, objects: ['GitRepository flux-system/app'] }, …] }
 */
export function explainDelivery(provider: ProviderRuntime, request: WebhookRequest, info: VerifiedInfo): { explanation: Explanation; events: readonly Event[] } {
  const decision = decide(provider, request, info);
  return { explanation: explainDecision(provider, decision), events: 'events' in decision ? decision.events : [] };
}

/** Explains events built by hand (`--repository … --ref …`): the event filter, then every target. */
export function explainEvents(provider: ProviderRuntime, events: readonly Event[]): Explanation {
  const listened = events.filter((event) => provider.events.has(event.event));
  if (listened.length === 0) {
    return { decision: 'ignored', reason: `event "${events[0]?.event}" is not in events [${[...provider.events].join(', ')}]`, event: events[0], targets: [] };
  }
  const targets = provider.targets.all.map((target) => verdict(target, listened));
  return { decision: targets.some((target) => target.matched) ? 'matched' : 'unmatched', event: listened[0], targets };
}

function explainDecision(provider: ProviderRuntime, decision: Decision): Explanation {
  if (decision.kind === 'ignored' || decision.kind === 'malformed') return { decision: decision.kind, reason: decision.reason, ...(decision.kind === 'ignored' && decision.event ? { event: decision.event } : {}), targets: [] };
  const targets = provider.targets.all.map((target) => verdict(target, decision.events));
  return { decision: decision.kind, event: decision.match.event, targets };
}
