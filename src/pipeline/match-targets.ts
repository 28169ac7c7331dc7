/**
 * Which of a provider's targets a delivery's events concern, and the objects to reconcile: a target matches when
 * any event matches it; two targets naming the same object ask for one reconcile.
 */
import type { ObjectSelector } from '../reconcile/reconciler.ts';
import type { CompiledTarget } from './compile.ts';
import type { Event } from './provider.ts';

export interface TargetMatch {
  /** Names of the matched targets (empty: nothing matched, see `reason`). */
  targets: string[];
  selectors: ObjectSelector[];
  /** Why nothing matched: each target's reason for the first event. */
  reason: string;
  /** The event shown in records: the first that matched, else the first. */
  event: Event;
}

/**
 * @example matchTargets(provider, events) // { targets: ['app'], selectors: [GitRepository flux-system/app], reason: '', event }
 */
export function matchTargets(provider: { name: string; targets: readonly CompiledTarget[] }, events: readonly Event[]): TargetMatch {
  const targets: string[] = [];
  const reasons: string[] = [];
  const selectors = new Map<string, ObjectSelector>();
  let shown: Event | undefined;
  for (const target of provider.targets) {
    let firstReason: string | undefined;
    let matched = false;
    for (const event of events) {
      const result = target.match(event);
      if (result.matched) {
        matched = true;
        shown ??= event;
        break;
      }
      firstReason ??= result.reason;
    }
    if (!matched) {
      reasons.push(`${target.name}: ${firstReason}`);
      continue;
    }
    targets.push(target.name);
    for (const selector of target.selectors) selectors.set(selector.key, selector);
  }
  const reason = provider.targets.length === 0 ? `no target uses provider ${provider.name}` : `no target matched (${reasons.join('; ')})`;
  return { targets, selectors: [...selectors.values()], reason, event: shown ?? events[0]! };
}
