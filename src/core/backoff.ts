/** How long to wait before the next attempt: capped exponential backoff with jitter, for any retried call. */

export interface RetryPolicy {
  /** Infinity: attempts are bounded by the job's deadline (`reconcile.retry.maxAge`) alone. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Source of jitter in [0, 1). */
  random: () => number;
}

/** A Retry-After beyond this is treated as this: a webhook's reconcile should not wait for an hour. */
const retryAfterCapMs = 5 * 60_000;

/**
 * Delay before the next attempt after `failures` failed ones: exponential from initialDelay, capped at
 * maxDelay, with "equal jitter" (half fixed, half random) so synchronized clients spread out. A server's
 * Retry-After is a floor.
 * @example backoffDelay({ maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 30000, random: () => 0 }, 3) // 500
 */
export function backoffDelay(policy: RetryPolicy, failures: number, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
  const jittered = exponential / 2 + policy.random() * (exponential / 2);
  if (retryAfterMs === undefined) return Math.round(jittered);
  return Math.round(Math.max(jittered, Math.min(retryAfterMs, retryAfterCapMs)));
}

