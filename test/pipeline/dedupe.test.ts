import { describe, expect, test } from 'bun:test';
import { createDeliveryDeduper } from '../../src/pipeline/dedupe.ts';

const TTL = 10 * 60_000;

/** A deduper on a hand-moved clock. */
function setup(maxEntries = 100) {
  const clock = { now: 1_000_000 };
  const deduper = createDeliveryDeduper({ ttlMs: TTL, maxEntries, now: () => clock.now });
  return { deduper, clock };
}

describe('createDeliveryDeduper', () => {
  // Steps: [advance the clock by ms, key, expected seen()]
  const scenarios: [name: string, steps: [advance: number, key: string, seen: boolean][]][] = [
    ['first sighting is new', [[0, 'github:a', false]]],
    ['same key at once is a duplicate', [[0, 'github:a', false], [0, 'github:a', true]]],
    ['same key within ttl is a duplicate', [[0, 'github:a', false], [TTL - 1, 'github:a', true]]],
    ['same key at exactly ttl is new again', [[0, 'github:a', false], [TTL, 'github:a', false]]],
    ['same key after ttl is new again', [[0, 'github:a', false], [TTL + 5_000, 'github:a', false], [1, 'github:a', true]]],
    ['keys are exact: provider is part of the key', [[0, 'github:a', false], [0, 'gitlab:a', false], [0, 'github:A', false]]],
    [
      'a duplicate does not extend the window',
      [[0, 'k', false], [TTL - 10, 'k', true], [10, 'k', false]],
    ],
    [
      'expiry is per key',
      [[0, 'a', false], [TTL / 2, 'b', false], [TTL / 2, 'a', false], [0, 'b', true], [TTL / 2, 'b', false]],
    ],
  ];

  test.each(scenarios)('%s', (_name, steps) => {
    const { deduper, clock } = setup();
    steps.forEach(([advance, key, seen], index) => {
      clock.now += advance;
      expect({ step: index, seen: deduper.seen(key) }).toEqual({ step: index, seen });
    });
  });

  test('evicts the oldest key beyond maxEntries', () => {
    const { deduper } = setup(3);
    for (const key of ['a', 'b', 'c', 'd']) expect(deduper.seen(key)).toBe(false);
    // `a` was evicted to make room for `d`; `b`, `c`, `d` are remembered.
    expect(deduper.seen('d')).toBe(true);
    expect(deduper.seen('c')).toBe(true);
    expect(deduper.seen('b')).toBe(true);
    expect(deduper.seen('a')).toBe(false); // re-recorded, which evicts `b`
    expect(deduper.seen('b')).toBe(false);
  });

  test('memory stays bounded under a flood of distinct ids', () => {
    const { deduper } = setup(1_000);
    for (let i = 0; i < 50_000; i++) deduper.seen(`github:${i}`);
    expect(deduper.seen('github:49999')).toBe(true);
    expect(deduper.seen('github:49000')).toBe(true);
    expect(deduper.seen('github:48999')).toBe(false);
  });

  test('expired keys do not count against maxEntries', () => {
    const { deduper, clock } = setup(2);
    deduper.seen('a');
    deduper.seen('b');
    clock.now += TTL;
    deduper.seen('c'); // drops expired a and b before inserting
    deduper.seen('d');
    expect(deduper.seen('c')).toBe(true);
    expect(deduper.seen('d')).toBe(true);
  });

  test('an expired entry behind a fresh one still expires when the clock stepped back', () => {
    const clock = { now: 10 * TTL };
    const deduper = createDeliveryDeduper({ ttlMs: TTL, maxEntries: 10, now: () => clock.now });
    deduper.seen('early'); // recorded at 10 TTL
    clock.now = 5 * TTL; // wall clock stepped back
    deduper.seen('late'); // recorded at 5 TTL, behind 'early' in insertion order
    clock.now = 6 * TTL + 1; // 'late' expired, 'early' looks fresh (negative age)
    expect(deduper.seen('late')).toBe(false);
  });

  test.each([
    [{ ttlMs: -1, maxEntries: 10 }],
    [{ ttlMs: Number.NaN, maxEntries: 10 }],
    [{ ttlMs: 1000, maxEntries: 0 }],
    [{ ttlMs: 1000, maxEntries: 1.5 }],
  ])('rejects bad options %j', (options) => {
    expect(() => createDeliveryDeduper({ ...options, now: () => 0 })).toThrow(RangeError);
  });
});
