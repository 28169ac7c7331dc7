/**
 * Time as a dependency: debounce and retry take a Clock so tests drive them with a manual clock instead of
 * sleeping.
 */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `delayMs` on the given clock. */
export function delay(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const handle = clock.setTimer(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, delayMs);
    const stop = () => {
      clock.clearTimer(handle);
      resolve();
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
