import { describe, expect, test } from 'bun:test';
import { createDispatcher, type RetryNotice } from '../../src/reconcile/dispatcher.ts';
import { KubeError } from '../../src/kube/client.ts';
import { manualClock, settle } from '../support/manual-clock.ts';

/** A signal nobody aborts. */
const live = new AbortController().signal;
const policy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 };

/** A job whose attempts fail with the given errors in turn, then succeed. */
function scriptedJob(errors: unknown[]) {
  const attempts: number[] = [];
  return {
    attempts,
    job: {
      kind: 'GitRepository',
      label: 'GitRepository flux-system/app',
      attempt: async () => {
        attempts.push(attempts.length + 1);
        const error = errors[attempts.length - 1];
        if (error) throw error;
      },
    },
  };
}

describe('dispatcher retries', () => {
  test('429 then 503 then success: retried with backoff, Retry-After honoured', async () => {
    const clock = manualClock();
    const notices: RetryNotice[] = [];
    const dispatcher = createDispatcher({ concurrency: 2, policy, clock, onRetry: (_job, notice) => notices.push(notice) });
    const { job, attempts } = scriptedJob([new KubeError('throttled', 'http', 429, 3000), new KubeError('unavailable', 'http', 503)]);
    const result = dispatcher.run(job, live);
    await settle();
    expect(attempts).toHaveLength(1);
    expect(notices[0]).toMatchObject({ reason: 'throttled', attempt: 1, delayMs: 3000 });
    await clock.advance(2999);
    expect(attempts).toHaveLength(1);
    await clock.advance(1);
    expect(attempts).toHaveLength(2);
    // second failure: exponential 200ms, equal jitter with random 0.5 → 150ms
    expect(notices[1]).toMatchObject({ reason: 'server_error', attempt: 2, delayMs: 150 });
    await clock.advance(150);
    expect(await result).toEqual({ ok: true, attempts: 3 });
  });

  test('404 and 403 are final after one attempt', async () => {
    for (const [status, outcome] of [
      [404, 'not_found'],
      [403, 'forbidden'],
    ] as const) {
      const dispatcher = createDispatcher({ concurrency: 1, policy, clock: manualClock() });
      const { job, attempts } = scriptedJob([new KubeError('no', 'http', status)]);
      expect(await dispatcher.run(job, live)).toMatchObject({ ok: false, outcome, attempts: 1, retriesExhausted: false });
      expect(attempts).toHaveLength(1);
    }
  });

  test('timeouts and connection errors are retried up to maxAttempts, then fail', async () => {
    const clock = manualClock();
    const dispatcher = createDispatcher({ concurrency: 1, policy, clock });
    const errors = [new KubeError('t', 'timeout'), new KubeError('c', 'connection'), new KubeError('t', 'timeout'), new KubeError('c', 'connection')];
    const { job, attempts } = scriptedJob(errors);
    const result = dispatcher.run(job, live);
    await clock.advance(10_000);
    expect(await result).toMatchObject({ ok: false, outcome: 'failed', attempts: 4, retriesExhausted: true, error: 'c' });
    expect(attempts).toHaveLength(4);
  });

  test('never runs more than `concurrency` attempts at once, and a backing-off job frees its slot', async () => {
    const clock = manualClock();
    const dispatcher = createDispatcher({ concurrency: 3, policy, clock });
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const jobs = Array.from({ length: 10 }, () =>
      dispatcher.run({
        kind: 'Kustomization',
        label: 'x',
        attempt: async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise<void>((resolve) => gates.push(resolve));
          running -= 1;
        },
      }, live),
    );
    await settle();
    expect(running).toBe(3);
    while (gates.length > 0) {
      gates.shift()!();
      await settle();
    }
    await Promise.all(jobs);
    expect(peak).toBe(3);

    const slow = createDispatcher({ concurrency: 1, policy, clock });
    const throttled = scriptedJob([new KubeError('busy', 'http', 429, 60_000)]);
    const quick = scriptedJob([]);
    void slow.run(throttled.job, live);
    await settle();
    expect(await slow.run(quick.job, live)).toEqual({ ok: true, attempts: 1 });
  });

  test('an aborted signal ends a backoff at once and stops further attempts: interrupted, not failed for good', async () => {
    const clock = manualClock();
    const dispatcher = createDispatcher({ concurrency: 1, policy, clock });
    const { job, attempts } = scriptedJob([new KubeError('busy', 'http', 503), new KubeError('busy', 'http', 503)]);
    const stop = new AbortController();
    const result = dispatcher.run(job, stop.signal);
    await settle();
    expect(attempts).toHaveLength(1);
    stop.abort();
    expect(await result).toMatchObject({ ok: false, interrupted: true, retriesExhausted: false, error: 'busy (interrupted by shutdown)' });
    expect(attempts).toHaveLength(1);
    expect(await dispatcher.run(scriptedJob([]).job, stop.signal)).toMatchObject({ ok: false, interrupted: true, error: 'shutting down (interrupted by shutdown)' });
  });

  test('with a deadline, retries go on past any count until the next attempt would start after it', async () => {
    const clock = manualClock();
    const dispatcher = createDispatcher({ concurrency: 1, policy: { ...policy, maxAttempts: Number.POSITIVE_INFINITY }, clock });
    const start = clock.now();
    const attempts: number[] = [];
    const job = { kind: 'GitRepository', label: 'GitRepository flux-system/app', deadline: start + 60_000, attempt: async () => {
      attempts.push(clock.now() - start);
      throw new KubeError('refused', 'connection');
    } };
    const result = dispatcher.run(job, new AbortController().signal);
    await clock.advance(120_000);
    const ended = await result;
    expect(ended).toMatchObject({ ok: false, retriesExhausted: true });
    expect((ended as { error: string }).error).toBe('refused (retried for reconcile.retry.maxAge)');
    expect(attempts.length).toBeGreaterThan(10);
    expect(attempts.at(-1)!).toBeLessThanOrEqual(60_000);
  });
});
