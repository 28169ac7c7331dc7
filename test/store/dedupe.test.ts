import { describe, expect, test } from 'bun:test';
import { createDeliveryDeduper } from '../../src/store/dedupe.ts';

const TTL = 10 * 60_000;

/** A deduper on a hand-moved clock. */
function setup(maxEntriesPerProvider = 100) {
  const clock = { now: 1_000_000 };
  const deduper = createDeliveryDeduper({ ttlMs: TTL, maxEntriesPerProvider, now: () => clock.now });
  return { deduper, clock };
}

describe('createDeliveryDeduper', () => {
  // Steps: [advance the clock by ms, provider, delivery id, expected seen()]
  const scenarios: [name: string, steps: [advance: number, provider: string, id: string, seen: boolean][]][] = [
    ['first sighting is new', [[0, 'github', 'a', false]]],
    ['same id at once is a duplicate', [[0, 'github', 'a', false], [0, 'github', 'a', true]]],
    ['same id within ttl is a duplicate', [[0, 'github', 'a', false], [TTL - 1, 'github', 'a', true]]],
    ['same id at exactly ttl is new again', [[0, 'github', 'a', false], [TTL, 'github', 'a', false]]],
    ['same id after ttl is new again', [[0, 'github', 'a', false], [TTL + 5_000, 'github', 'a', false], [1, 'github', 'a', true]]],
    ['ids are exact, and per provider', [[0, 'github', 'a', false], [0, 'gitlab', 'a', false], [0, 'github', 'A', false], [0, 'gitlab', 'a', true]]],
    ['a duplicate does not extend the window', [[0, 'github', 'k', false], [TTL - 10, 'github', 'k', true], [10, 'github', 'k', false]]],
    [
      'expiry is per id',
      [[0, 'github', 'a', false], [TTL / 2, 'github', 'b', false], [TTL / 2, 'github', 'a', false], [0, 'github', 'b', true], [TTL / 2, 'github', 'b', false]],
    ],
  ];

  test.each(scenarios)('%s', (_name, steps) => {
    const { deduper, clock } = setup();
    steps.forEach(([advance, provider, id, seen], index) => {
      clock.now += advance;
      expect({ step: index, seen: deduper.seen(provider, id) }).toEqual({ step: index, seen });
    });
  });

  test('evicts the least recently recorded id beyond maxEntriesPerProvider', () => {
    const { deduper } = setup(3);
    for (const id of ['a', 'b', 'c', 'd']) expect(deduper.seen('github', id)).toBe(false);
    // `a` was evicted to make room for `d`; `b`, `c`, `d` are remembered, and looking does not reorder them.
    expect(deduper.seen('github', 'd')).toBe(true);
    expect(deduper.seen('github', 'c')).toBe(true);
    expect(deduper.seen('github', 'b')).toBe(true);
    expect(deduper.seen('github', 'a')).toBe(false); // re-recorded, which evicts `b`
    expect(deduper.seen('github', 'b')).toBe(false);
  });

  test('memory stays bounded under a flood of distinct ids', () => {
    const { deduper } = setup(1_000);
    for (let i = 0; i < 50_000; i++) deduper.seen('github', String(i));
    expect(deduper.seen('github', '49999')).toBe(true);
    expect(deduper.seen('github', '49000')).toBe(true);
    expect(deduper.seen('github', '48999')).toBe(false);
  });

  test('a flood of fresh ids on one provider does not evict another provider’s ids', () => {
    const { deduper } = setup(1_000);
    expect(deduper.seen('gitlab', 'real-delivery')).toBe(false);
    for (let i = 0; i < 5_000; i++) deduper.seen('github', `forged-${i}`);
    expect(deduper.seen('gitlab', 'real-delivery')).toBe(true);
  });

  test('expired ids are evicted before fresh ones', () => {
    const { deduper, clock } = setup(2);
    deduper.seen('github', 'a');
    deduper.seen('github', 'b');
    clock.now += TTL;
    deduper.seen('github', 'c'); // evicts expired a
    deduper.seen('github', 'd'); // evicts expired b
    expect(deduper.seen('github', 'c')).toBe(true);
    expect(deduper.seen('github', 'd')).toBe(true);
  });

  test('an id recorded after the clock stepped back still expires on time', () => {
    const clock = { now: 10 * TTL };
    const deduper = createDeliveryDeduper({ ttlMs: TTL, maxEntriesPerProvider: 10, now: () => clock.now });
    deduper.seen('github', 'early'); // recorded at 10 TTL
    clock.now = 5 * TTL; // wall clock stepped back
    deduper.seen('github', 'late'); // recorded at 5 TTL, after 'early'
    clock.now = 6 * TTL + 1; // 'late' expired, 'early' looks fresh (negative age)
    expect(deduper.seen('github', 'late')).toBe(false);
    expect(deduper.seen('github', 'early')).toBe(true);
  });

  test.each([
    [{ ttlMs: -1, maxEntriesPerProvider: 10 }],
    [{ ttlMs: 0, maxEntriesPerProvider: 10 }],
    [{ ttlMs: 1.5, maxEntriesPerProvider: 10 }],
    [{ ttlMs: Number.NaN, maxEntriesPerProvider: 10 }],
    [{ ttlMs: 1000, maxEntriesPerProvider: 0 }],
    [{ ttlMs: 1000, maxEntriesPerProvider: 1.5 }],
  ])('rejects bad options %j', (options) => {
    expect(() => createDeliveryDeduper({ ...options, now: () => 0 })).toThrow(RangeError);
  });
});
