/** Discovery's answers in words, bounded in length whatever the cluster holds. */
import { normalizeImage } from '../pipeline/index.ts';
import { shown } from '../pipeline/index.ts';
import type { Event } from '../provider-kit/index.ts';

/** Near misses listed at most; the rest are counted. */
export const SHOWN_MISSES = 10;

/**
 * @example summarizeMisses(Array.from({ length: 12 }, (_, i) => `GitRepository ns/r${i}: suspended`)) // 10 of them, then 'and 2 more'
 */
export function summarizeMisses(misses: readonly string[]): string[] {
  if (misses.length <= SHOWN_MISSES) return [...misses];
  return [...misses.slice(0, SHOWN_MISSES), `and ${misses.length - SHOWN_MISSES} more`];
}

/**
 * Why discovery found nothing for a delivery: the ref was deleted, no watched object uses what it names, or the
 * objects that do all missed (with why); and which watches have not listed yet, since their objects are unknown.
 *
 * @example describeEvent([push], push, 0, [], []) // 'no watched object uses repository github.com/org/app'
 */
export function describeEvent(events: readonly Event[], event: Event, candidates: number, misses: readonly string[], unsynced: readonly string[]): string {
  const pending = unsynced.length > 0 ? `; not listed yet: ${unsynced.slice(0, SHOWN_MISSES).join(', ')}${unsynced.length > SHOWN_MISSES ? ', …' : ''}` : '';
  if (events.every((candidate) => candidate.deleted)) return `${event.image ? 'image' : 'ref'} deleted`;
  if (candidates === 0) {
    const named = event.image ? `image ${normalizeImage(event.image.name)}` : event.repositories.length > 0 ? `repository ${shown(event.repositories)}` : 'what this event names';
    return `no watched object uses ${named}${pending}`;
  }
  return `no watched object follows this push (${summarizeMisses(misses).join('; ')})${pending}`;
}
