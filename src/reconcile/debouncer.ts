/**
 * Per-key leading + trailing debounce. The first request of a quiet period fires at once; requests arriving
 * within the window after it are coalesced into one more firing at the end of the window, which opens a new
 * window. So every request is followed by a firing that starts after it, and a burst costs two firings.
 */
import type { Clock } from './clock.ts';

export interface Debouncer<W> {
  /** Asks for a firing for `key`; returns 'fired' for a leading edge, 'coalesced' when folded into a pending one. */
  request(key: string, waiter: W): 'fired' | 'scheduled' | 'coalesced';
  /** Fires every pending trailing edge now and forgets all windows (shutdown). */
  flush(): number;
  /** Keys with a trailing firing pending. */
  pending(): number;
}

interface Window<W> {
  timer: unknown;
  /** Waiters for the trailing edge; empty when nothing arrived since the last firing. */
  waiters: W[];
}

export interface DebouncerOptions<W> {
  windowMs: number;
  clock: Clock;
  fire(key: string, waiters: W[]): void;
}

export function createDebouncer<W>(options: DebouncerOptions<W>): Debouncer<W> {
  const { windowMs, clock, fire } = options;
  const windows = new Map<string, Window<W>>();
  let pendingKeys = 0;

  const open = (key: string): Window<W> => {
    const window: Window<W> = { timer: undefined, waiters: [] };
    window.timer = clock.setTimer(() => close(key, window), windowMs);
    windows.set(key, window);
    return window;
  };

  function close(key: string, window: Window<W>): void {
    windows.delete(key);
    if (window.waiters.length === 0) return;
    pendingKeys -= 1;
    const waiters = window.waiters;
    // The trailing firing opens a new window, so requests right after it are coalesced again.
    open(key);
    fire(key, waiters);
  }

  return {
    request(key, waiter) {
      const window = windows.get(key);
      if (!window) {
        open(key);
        fire(key, [waiter]);
        return 'fired';
      }
      window.waiters.push(waiter);
      if (window.waiters.length === 1) {
        pendingKeys += 1;
        return 'scheduled';
      }
      return 'coalesced';
    },
    flush() {
      let fired = 0;
      for (const [key, window] of [...windows]) {
        clock.clearTimer(window.timer);
        windows.delete(key);
        if (window.waiters.length > 0) {
          fired += 1;
          fire(key, window.waiters);
        }
      }
      pendingKeys = 0;
      return fired;
    },
    pending: () => pendingKeys,
  };
}
