/** Which API-server failures are worth another attempt, and how long to wait before it. */
import type { RetryConfig } from '../config/index.ts';
import { KubeError } from '../kube/index.ts';
import type { RetryPolicy } from '../core/index.ts';

export function retryPolicy(config: RetryConfig, random: () => number = Math.random): RetryPolicy {
  return { maxAttempts: config.maxAttempts ?? Number.POSITIVE_INFINITY, initialDelayMs: config.initialDelay, maxDelayMs: config.maxDelay, random };
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
