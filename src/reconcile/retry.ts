/** Which API-server failures are worth another attempt, and how long to wait before it. */
import type { RetryConfig } from '../config/schema.ts';
import { KubeError } from './kube-client.ts';

export interface RetryPolicy {
  /** Infinity: attempts are bounded by the job's deadline (`reconcile.retry.maxAge`) alone. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Source of jitter in [0, 1). */
  random: () => number;
}

export function retryPolicy(config: RetryConfig, random: () => number = Math.random): RetryPolicy {
  return { maxAttempts: config.maxAttempts ?? Number.POSITIVE_INFINITY, initialDelayMs: config.initialDelay, maxDelayMs: config.maxDelay, random };
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

export type RetryReason = 'throttled' | 'server_error' | 'timeout' | 'connection';
export type FinalOutcome = 'not_found' | 'forbidden' | 'unauthorized' | 'failed';

export type Classification = { retry: true; reason: RetryReason; retryAfterMs?: number } | { retry: false; outcome: FinalOutcome };

/** 429, 5xx, timeouts and connection errors are retried; 404 and 403 are final, like every other answer. */
export function classifyFailure(error: unknown): Classification {
  if (!(error instanceof KubeError)) return { retry: false, outcome: 'failed' };
  switch (error.failure) {
    case 'timeout':
      return { retry: true, reason: 'timeout' };
    case 'connection':
      return { retry: true, reason: 'connection' };
    case 'unauthorized':
      return { retry: false, outcome: 'unauthorized' };
    case 'tls':
      return { retry: false, outcome: 'failed' };
    case 'http':
      if (error.status === 429) return { retry: true, reason: 'throttled', retryAfterMs: error.retryAfterMs };
      if (error.status !== undefined && error.status >= 500) return { retry: true, reason: 'server_error', retryAfterMs: error.retryAfterMs };
      if (error.status === 404) return { retry: false, outcome: 'not_found' };
      if (error.status === 403) return { retry: false, outcome: 'forbidden' };
      if (error.status === 401) return { retry: false, outcome: 'unauthorized' };
      return { retry: false, outcome: 'failed' };
  }
  return { retry: false, outcome: 'failed' };
}
