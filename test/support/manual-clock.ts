/** A Clock driven by the test: timers fire only when `advance` moves time past them. */
import type { Clock } from '../../src/core/clock.ts';

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

export interface ManualClock extends Clock {
  /** Moves time forward, firing due timers in order (and letting promise callbacks run between them). */
  advance(ms: number): Promise<void>;
  /** Timers not yet fired. */
  timers(): number;
  /** Delay of the next timer from now, if any. */
  nextDelay(): number | undefined;
}

/** Lets pending promise callbacks (and the I/O they wait on, briefly) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let round = 0; round < rounds; round += 1) await new Promise((resolve) => setImmediate(resolve));
}

export function manualClock(start = Date.UTC(2026, 10, 25, 12, 0, 0)): ManualClock {
  let now = start;
  let nextId = 1;
  const pending: Timer[] = [];
  return {
    now: () => now,
    setTimer(callback, delayMs) {
      const timer = { id: nextId++, at: now + Math.max(0, delayMs), callback };
      pending.push(timer);
      return timer.id;
    },
    clearTimer(handle) {
      const index = pending.findIndex((timer) => timer.id === handle);
      if (index >= 0) pending.splice(index, 1);
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        await settle();
        pending.sort((a, b) => a.at - b.at || a.id - b.id);
        const due = pending[0];
        if (!due || due.at > target) break;
        pending.shift();
        now = due.at;
        due.callback();
      }
      now = target;
      await settle();
    },
    timers: () => pending.length,
    nextDelay: () => (pending.length > 0 ? Math.min(...pending.map((timer) => timer.at)) - now : undefined),
  };
}
