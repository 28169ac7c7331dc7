/**
 * Runs one API-server job at a time per call, with bounded concurrency across calls and retries with backoff until
 * the job's deadline (or the policy's attempts).
 * A job waiting out its backoff does not hold a concurrency slot, so one throttled object cannot stall the
 * others. It keeps no record of what is pending: the reconciler owns that.
 */
import { delay, type Clock } from '../core/index.ts';
import { classifyFailure, type FinalOutcome, type RetryReason } from './retry.ts';
import { backoffDelay, type RetryPolicy } from '../core/index.ts';

export interface DispatchJob {
  /** Kind of the object, for metrics. */
  kind: string;
  /** The object or selector, for logs. */
  label: string;
  /** One attempt; throws KubeError (or anything) on failure. */
  attempt(signal: AbortSignal): Promise<void>;
  /**
   * Retries end once the next attempt would start after this (ms since the epoch): an outage is waited out this
   * long, however many attempts it takes. Undefined: only the policy's `maxAttempts` ends them.
   */
  deadline?: number;
}

export type JobResult =
  | { ok: true; attempts: number }
  | { ok: false; outcome: FinalOutcome; error: string; attempts: number; retriesExhausted: boolean; interrupted?: boolean };

export interface RetryNotice {
  reason: RetryReason;
  /** Number of the attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  error: string;
}

export interface Dispatcher {
  /** Runs `job` until it succeeds, fails for good, runs out of attempts or time, or `signal` interrupts it. */
  run(job: DispatchJob, signal: AbortSignal): Promise<JobResult>;
}

export interface DispatcherOptions {
  concurrency: number;
  policy: RetryPolicy;
  clock: Clock;
  onRetry?(job: DispatchJob, notice: RetryNotice): void;
}

/**
 * @example
 * const dispatcher = createDispatcher({ concurrency: 16, policy, clock: systemClock });
 * const result = await dispatcher.run({ kind, label, attempt: (signal) => client.mergePatch(ref, annotations, signal) }, stop.signal);
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { concurrency, policy, clock } = options;
  const waiting: (() => void)[] = [];
  let active = 0;

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

  return {
    async run(job, signal) {
      for (let attempt = 1; ; attempt += 1) {
        await acquire();
        let failure: unknown;
        try {
          if (signal.aborted) throw new Error('shutting down');
          await job.attempt(signal);
          return { ok: true, attempts: attempt };
        } catch (error) {
          failure = error;
        } finally {
          release();
        }
        const message = failure instanceof Error ? failure.message : String(failure);
        const verdict = classifyFailure(failure);
        if (signal.aborted) return { ok: false, outcome: 'failed', error: `${message} (interrupted by shutdown)`, attempts: attempt, retriesExhausted: false, interrupted: true };
        if (!verdict.retry) return { ok: false, outcome: verdict.outcome, error: message, attempts: attempt, retriesExhausted: false };
        const delayMs = backoffDelay(policy, attempt, verdict.retryAfterMs);
        if (attempt >= policy.maxAttempts || (job.deadline !== undefined && clock.now() + delayMs > job.deadline)) {
          const why = attempt >= policy.maxAttempts ? '' : ' (retried for reconcile.retry.maxAge)';
          return { ok: false, outcome: 'failed', error: `${message}${why}`, attempts: attempt, retriesExhausted: true };
        }
        options.onRetry?.(job, { reason: verdict.reason, attempt, delayMs, error: message });
        await delay(clock, delayMs, signal);
        if (signal.aborted) {
          return { ok: false, outcome: 'failed', error: `${message} (interrupted by shutdown)`, attempts: attempt, retriesExhausted: false, interrupted: true };
        }
      }
    },
  };
}
