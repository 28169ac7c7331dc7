import { describe, expect, test } from 'bun:test';
import { createDebouncer } from '../../src/reconcile/debouncer.ts';
import { manualClock } from '../support/manual-clock.ts';

function setup(windowMs = 2000) {
  const clock = manualClock();
  const fired: { key: string; waiters: number[]; at: number }[] = [];
  const debouncer = createDebouncer<number>({ windowMs, clock, fire: (key, waiters) => fired.push({ key, waiters, at: clock.now() }) });
  return { clock, fired, debouncer, start: clock.now() };
}

describe('debouncer', () => {
  test('the first request of a quiet period fires at once', () => {
    const { debouncer, fired, start } = setup();
    expect(debouncer.request('a', 1)).toBe('fired');
    expect(fired).toEqual([{ key: 'a', waiters: [1], at: start }]);
  });

  test('a burst inside the window becomes exactly one trailing firing at the window end', async () => {
    const { debouncer, fired, clock, start } = setup();
    debouncer.request('a', 0);
    for (let index = 1; index < 100; index += 1) {
      await clock.advance(10);
      debouncer.request('a', index);
    }
    expect(fired).toHaveLength(1);
    expect(debouncer.pending()).toBe(1);
    await clock.advance(2000);
    expect(fired).toHaveLength(2);
    expect(fired[1]!.at).toBe(start + 2000);
    expect(fired[1]!.waiters).toEqual(Array.from({ length: 99 }, (_, index) => index + 1));
    expect(debouncer.pending()).toBe(0);
    await clock.advance(10_000);
    expect(fired).toHaveLength(2);
  });

  test('reports scheduled for the first follower and coalesced for the rest', () => {
    const { debouncer } = setup();
    expect(debouncer.request('a', 1)).toBe('fired');
    expect(debouncer.request('a', 2)).toBe('scheduled');
    expect(debouncer.request('a', 3)).toBe('coalesced');
  });

  test('a request right after a trailing firing waits for the next window', async () => {
    const { debouncer, fired, clock, start } = setup();
    debouncer.request('a', 1);
    debouncer.request('a', 2);
    await clock.advance(2000);
    expect(fired.map((item) => item.waiters)).toEqual([[1], [2]]);
    debouncer.request('a', 3);
    expect(fired).toHaveLength(2);
    await clock.advance(2000);
    expect(fired[2]).toEqual({ key: 'a', waiters: [3], at: start + 4000 });
  });

  test('after a quiet window the next request is a leading edge again', async () => {
    const { debouncer, fired, clock } = setup();
    debouncer.request('a', 1);
    await clock.advance(2000);
    expect(clock.timers()).toBe(0);
    expect(debouncer.request('a', 2)).toBe('fired');
    expect(fired).toHaveLength(2);
  });

  test('keys are independent', () => {
    const { debouncer, fired } = setup();
    debouncer.request('a', 1);
    debouncer.request('b', 2);
    expect(fired.map((item) => item.key)).toEqual(['a', 'b']);
  });

  test('flush fires every pending trailing request immediately and clears the timers', () => {
    const { debouncer, fired, clock } = setup();
    debouncer.request('a', 1);
    debouncer.request('a', 2);
    debouncer.request('b', 3);
    expect(debouncer.flush()).toBe(1);
    expect(fired.map((item) => item.waiters)).toEqual([[1], [3], [2]]);
    expect(clock.timers()).toBe(0);
    expect(debouncer.pending()).toBe(0);
  });
});
