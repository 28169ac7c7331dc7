/**
 * Delivery de-duplication: Git hosts retry deliveries (and users click "redeliver"); a delivery id seen within
 * the ttl (11 minutes in production) is answered "duplicate delivery" instead of reconciling twice.
 */
import { LRUCache } from 'lru-cache';

export interface DeliveryDeduperOptions {
  /** How long a delivery id counts as a duplicate after it was first recorded (a positive integer). */
  ttlMs: number;
  /** Ids kept at most per provider; the least recently recorded is forgotten first, in constant time. */
  maxEntriesPerProvider: number;
  /** Clock in milliseconds; injected so tests need no sleeping. */
  now: () => number;
}

export interface DeliveryDeduper {
  /** Records `deliveryId` for `provider`; true when it was already recorded less than `ttlMs` ago. */
  seen(provider: string, deliveryId: string): boolean;
  /** Forgets an id recorded by `seen` whose delivery was then refused, so the provider's retry is not a duplicate. */
  forget(provider: string, deliveryId: string): void;
  /** Records an id first seen at `at` (read back from the store at start): its window runs from then. */
  remember(provider: string, deliveryId: string, at: number): void;
}

/**
 * Creates a bounded, ttl-based memory of delivery ids with one LRU cache per provider, so a flood of fresh ids
 * on one route (GitHub delivery ids are not signed: anyone holding one delivery can mint more) never evicts
 * another provider's ids. Insert and eviction are O(1) whatever the history (a Map walked from the front slowed
 * from 0.4 µs to 169 µs per insert after 480k ids). Caches are created on first use; provider names come from
 * the config, so there are as many caches as configured providers at most.
 *
 * The window runs from the FIRST sighting: a duplicate does not extend it, so a redelivery requested after the
 * ttl is processed again. Memory: at most `maxEntriesPerProvider` ids per provider.
 *
 * @example
 * const deduper = createDeliveryDeduper({ ttlMs: 600_000, maxEntriesPerProvider: 100_000, now: Date.now });
 * deduper.seen('github', '72d3162e'); // false — first time
 * deduper.seen('github', '72d3162e'); // true  — duplicate within the ttl
 * deduper.seen('gitlab', '72d3162e'); // false — another provider's ids are separate
 */
export function createDeliveryDeduper(options: DeliveryDeduperOptions): DeliveryDeduper {
  const { ttlMs, maxEntriesPerProvider, now } = options;
  if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be an integer >= 1, got ${ttlMs}`);
  if (!Number.isInteger(maxEntriesPerProvider) || maxEntriesPerProvider < 1) {
    throw new RangeError(`maxEntriesPerProvider must be an integer >= 1, got ${maxEntriesPerProvider}`);
  }
  const caches = new Map<string, LRUCache<string, true>>();

  const cacheFor = (provider: string): LRUCache<string, true> => {
    let cache = caches.get(provider);
    if (cache === undefined) {
      // ttlResolution 0: read the injected clock on every check instead of caching it behind a real timer.
      cache = new LRUCache<string, true>({ max: maxEntriesPerProvider, ttl: ttlMs, ttlResolution: 0, perf: { now } });
      caches.set(provider, cache);
    }
    return cache;
  };

  return {
    seen(provider, deliveryId) {
      const cache = cacheFor(provider);
      // A duplicate while time is left, so at exactly ttl the id is new again (`has` would still count it).
      if (cache.getRemainingTTL(deliveryId) > 0) return true;
      // Re-recording restarts the window and makes the id the most recent, so expired ids are evicted first.
      cache.set(deliveryId, true);
      return false;
    },
    forget(provider, deliveryId) {
      caches.get(provider)?.delete(deliveryId);
    },
    remember(provider, deliveryId, at) {
      const left = at + ttlMs - now();
      if (left > 0) cacheFor(provider).set(deliveryId, true, { ttl: left });
    },
  };
}
