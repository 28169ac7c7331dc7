/**
 * Delivery de-duplication: Git hosts retry deliveries (and users click "redeliver"); a delivery id seen within
 * the ttl (10 minutes in production) is answered "duplicate delivery" instead of reconciling twice.
 */

export interface DeliveryDeduperOptions {
  /** How long a key counts as a duplicate after it was first recorded. */
  ttlMs: number;
  /** Keys kept at most; the oldest is forgotten first, so memory stays bounded under a flood of ids. */
  maxEntries: number;
  /** Clock in milliseconds; injected so tests need no sleeping. */
  now: () => number;
}

export interface DeliveryDeduper {
  /** Records `key` and returns true when it was already recorded less than `ttlMs` ago. */
  seen(key: string): boolean;
}

/**
 * Creates a bounded, ttl-based set of delivery keys (the caller builds them as provider name + delivery id).
 * The window runs from the FIRST sighting: a duplicate does not extend it, so a redelivery requested after the
 * ttl is processed again. Entries live in a Map in insertion order, which with a forward-moving clock is also
 * expiry order, so expired entries are dropped lazily from the front in O(1) amortized per call.
 *
 * @example
 * const deduper = createDeliveryDeduper({ ttlMs: 600_000, maxEntries: 10_000, now: Date.now });
 * deduper.seen('github:72d3162e'); // false — first time
 * deduper.seen('github:72d3162e'); // true  — duplicate within 10 minutes
 */
export function createDeliveryDeduper(options: DeliveryDeduperOptions): DeliveryDeduper {
  const { ttlMs, maxEntries, now } = options;
  if (!(ttlMs >= 0)) throw new RangeError(`ttlMs must be >= 0, got ${ttlMs}`);
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be an integer >= 1, got ${maxEntries}`);
  /** key → time first recorded; iteration order = insertion order. */
  const recorded = new Map<string, number>();

  const dropExpired = (at: number): void => {
    for (const [key, time] of recorded) {
      if (at - time < ttlMs) break; // everything after this was recorded later
      recorded.delete(key);
    }
  };

  return {
    seen(key) {
      const at = now();
      dropExpired(at);
      const time = recorded.get(key);
      // Checked on its own too: a clock that stepped back can leave an expired entry behind a fresh one.
      if (time !== undefined && at - time < ttlMs) return true;
      recorded.delete(key); // re-inserting moves an expired key to the back, keeping the order by time
      recorded.set(key, at);
      if (recorded.size > maxEntries) {
        const oldest = recorded.keys().next();
        if (!oldest.done) recorded.delete(oldest.value);
      }
      return false;
    },
  };
}
