/**
 * Runs API-server jobs with bounded concurrency and retries them with backoff. A job waiting out its backoff
 * does not hold a concurrency slot, so one throttled object cannot stall the others.
 */
import { delay, type Clock } from './clock.ts';
import { backoffDelay, classifyFailure, type FinalOutcome, type RetryPolicy, type RetryReason } from './retry.ts';

export interface DispatchJob {
  /** Kind of the object, for metrics. */
  kind: string;
  /** The object or selector, for logs. */
  label: string;
  /** One attempt; throws KubeError (or anything) on failure. */
  attempt(signal: AbortSignal): Promise<void>;
}

export type JobResult =
  | { ok: true; attempts: number }
  | { ok: false; outcome: FinalOutcome; error: string; attempts: number; retriesExhausted: boolean };

export interface RetryNotice {
  reason: RetryReason;
  /** Number of the attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  error: string;
}

export interface Dispatcher {
  submit(job: DispatchJob): Promise<JobResult>;
  /** Jobs queued, running or backing off. */
  size(): number;
  /** Resolves once no job is queued, running or backing off. */
  idle(): Promise<void>;
  /** Gives up: cancels backoffs and in-flight attempts (used when shutdown runs out of time). */
  abort(): void;
}

export interface DispatcherOptions {
  concurrency: number;
  policy: RetryPolicy;
  clock: Clock;
  onRetry?(job: DispatchJob, notice: RetryNotice): void;
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { concurrency, policy, clock } = options;
  const waiting: (() => void)[] = [];
  const idleWaiters: (() => void)[] = [];
  const stop = new AbortController();
  let active = 0;
  let total = 0;

  // A released slot passes straight to the next waiter, so a newcomer cannot slip in between and exceed the bound.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  const acquire = async () => {
    if (active < concurrency) {
      active += 1;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };

  async function run(job: DispatchJob): Promise<JobResult> {
    for (let attempt = 1; ; attempt += 1) {
      await acquire();
      let failure: unknown;
      try {
        if (stop.signal.aborted) throw new Error('shutting down');
        await job.attempt(stop.signal);
        return { ok: true, attempts: attempt };
      } catch (error) {
        failure = error;
      } finally {
        release();
      }
      const message = failure instanceof Error ? failure.message : String(failure);
      const verdict = classifyFailure(failure);
      if (!verdict.retry) return { ok: false, outcome: verdict.outcome, error: message, attempts: attempt, retriesExhausted: false };
      if (attempt >= policy.maxAttempts || stop.signal.aborted) {
        return { ok: false, outcome: 'failed', error: message, attempts: attempt, retriesExhausted: true };
      }
      const delayMs = backoffDelay(policy, attempt, verdict.retryAfterMs);
      options.onRetry?.(job, { reason: verdict.reason, attempt, delayMs, error: message });
      await delay(clock, delayMs, stop.signal);
      if (stop.signal.aborted) {
        return { ok: false, outcome: 'failed', error: `${message} (given up at shutdown)`, attempts: attempt, retriesExhausted: true };
      }
    }
  }

  return {
    async submit(job) {
      total += 1;
      try {
        return await run(job);
      } finally {
        total -= 1;
        if (total === 0) for (const resolve of idleWaiters.splice(0)) resolve();
      }
    },
    size: () => total,
    idle: () => (total === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
    abort: () => stop.abort(),
  };
}
