/**
 * Requests to paths no provider serves (a hook URL with a typo, a provider renamed, a scanner): counted in
 * `fluxgate_webhook_requests_total{provider="unknown",…,outcome="not_found"}`, shown on the status page, and
 * logged at most once per window with how many arrived — so a wrong URL on a Git host leaves a trace, and a
 * scanner cannot flood the log. Paths are cut short before they are kept or logged.
 */
import type { Clock } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { Metrics } from './metrics.ts';

export interface UnknownRoutes {
  report(path: string): void;
  summary(): { count: number; last?: string };
  /** Logs what the open window holds and clears its timer (shutdown). */
  stop(): void;
}

const SHOWN_PATH = 64;

function shorten(path: string): string {
  return path.length > SHOWN_PATH ? `${path.slice(0, SHOWN_PATH)}…` : path;
}

/**
 * @example
 * const unknown = createUnknownRoutes({ metrics, log, clock, windowMs: 10_000 });
 * unknown.report('/hook/gihtub'); // logged now; more within 10 s are logged as one line when it ends
 */
export function createUnknownRoutes(options: { metrics: Metrics; log: Logger; clock: Clock; windowMs: number }): UnknownRoutes {
  const { metrics, log, clock } = options;
  let count = 0;
  let last: string | undefined;
  /** Requests since the last log line, while a window is open. */
  let unlogged = 0;
  let window: unknown;

  function closeWindow(): void {
    window = undefined;
    if (unlogged === 0) return;
    log.warn('requests to unknown paths', { count: unlogged, last, windowMs: options.windowMs });
    unlogged = 0;
    window = clock.setTimer(closeWindow, options.windowMs);
  }

  return {
    report(path) {
      count += 1;
      last = shorten(path);
      metrics.webhookRequests.inc({ provider: 'unknown', type: 'unknown', event: 'unknown', outcome: 'not_found' });
      if (window === undefined) {
        log.warn('request to an unknown path: no provider serves it', { path: last });
        window = clock.setTimer(closeWindow, options.windowMs);
      } else {
        unlogged += 1;
      }
    },
    summary: () => ({ count, ...(last !== undefined ? { last } : {}) }),
    stop() {
      if (window !== undefined) clock.clearTimer(window);
      window = undefined;
      if (unlogged > 0) log.warn('requests to unknown paths', { count: unlogged, last, windowMs: options.windowMs });
      unlogged = 0;
    },
  };
}
