/**
 * Failures to write a Kubernetes Event: counted in `fluxgate_kubernetes_events_failed_total{reason}` and logged
 * at most once a minute per reason. An Event is a courtesy; its failures must not flood the log.
 */
import type { Clock } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { Metrics } from './metrics.ts';

const LOG_EVERY_MS = 60_000;

/**
 * @example
 * const failed = eventFailures(metrics, log, clock);
 * failed('forbidden', 'events.k8s.io "…" is forbidden: …');
 */
export function eventFailures(metrics: Metrics, log: Logger, clock: Clock): (reason: string, error: string) => void {
  const lastLogged = new Map<string, number>();
  const since = new Map<string, number>();
  return (reason, error) => {
    metrics.eventsFailed.inc({ reason });
    const now = clock.now();
    const last = lastLogged.get(reason);
    if (last !== undefined && now - last < LOG_EVERY_MS) {
      since.set(reason, (since.get(reason) ?? 0) + 1);
      return;
    }
    log.warn('could not write a Kubernetes Event (reconcile requests are not affected)', { reason, error, alsoFailedSinceLastLine: since.get(reason) ?? 0 });
    lastLogged.set(reason, now);
    since.set(reason, 0);
  };
}
