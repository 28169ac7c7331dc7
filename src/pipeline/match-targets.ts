/**
 * Which of a provider's targets a delivery's events concern, and the objects to reconcile: only the targets the
 * index finds for the events are evaluated; a target matches when any event matches it; two targets naming the
 * same object ask for one reconcile.
 */
import type { ObjectSelector } from '../core/index.ts';
import type { CompiledTarget } from './compile.ts';
import type { Event } from '../provider-kit/index.ts';
import { normalizeImage } from './image-ref.ts';
import { shown as shownRepository } from './match.ts';
import type { TargetIndex } from './target-index.ts';

export interface TargetMatch {
  /** Names of the matched targets (empty: nothing matched, see `reason`). */
  targets: string[];
  selectors: ObjectSelector[];
  /** Why nothing matched: each evaluated target's reason for the first event (at most ten), and how many were not evaluated; '' when something matched. */
  reason: string;
  /** The event shown in records: the first that matched, else the first. */
  event: Event;
}

/** Reasons listed in an answer at most: the rest are counted, so a large config cannot make answers large. */
const SHOWN_REASONS = 10;

/**
 * @example matchTargets(provider, events) // { targets: ['app'], selectors: [GitRepository flux-system/app], reason: '', event }
 */
export function matchTargets(provider: { name: string; targets: TargetIndex<CompiledTarget> }, events: readonly Event[]): TargetMatch {
  const targets: string[] = [];
  const reasons: string[] = [];
  const selectors = new Map<string, ObjectSelector>();
  let shown: Event | undefined;
  const { targets: candidates, others } = provider.targets.candidates(events);
  for (const target of candidates) {
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
  // The reason is read only when nothing matched; describing a miss normalizes repositories, so it is not done otherwise.
  const reason = targets.length === 0 ? describeMiss(provider, events[0]!, reasons, others) : '';
  return { targets, selectors: [...selectors.values()], reason, event: shown ?? events[0]! };
}

function describeMiss(provider: { name: string; targets: TargetIndex<CompiledTarget> }, event: Event, reasons: string[], others: number): string {
  if (provider.targets.size === 0) return `no target uses provider ${provider.name}`;
  const elsewhere = `${others} ${others === 1 ? 'target watches' : 'targets watch'} other repositories or images`;
  if (reasons.length === 0) {
    const named = event.image ? `image ${normalizeImage(event.image.name)}` : event.repositories.length > 0 ? `repository ${shownRepository(event.repositories)}` : 'what this event names';
    return `no target watches ${named} (${elsewhere})`;
  }
  const listed = reasons.slice(0, SHOWN_REASONS);
  if (reasons.length > SHOWN_REASONS) listed.push(`and ${reasons.length - SHOWN_REASONS} more`);
  if (others > 0) listed.push(elsewhere);
  return `no target matched (${listed.join('; ')})`;
}
