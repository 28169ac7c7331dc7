/** The reconciler with a scripted API client and a manual clock: ordering, coalescing and shutdown. */
import { describe, expect, test } from 'bun:test';
import { createDispatcher } from '../../src/reconcile/dispatcher.ts';
import { KubeError, type KubeClient, type ObjectRef } from '../../src/reconcile/kube-client.ts';
import { createReconciler, type ObjectSelector, type PatchReport, type ReconcileReporter, type Ticket } from '../../src/reconcile/reconciler.ts';
import { manualClock, settle } from '../support/manual-clock.ts';

interface Call {
  ref: ObjectRef;
  value: string;
  release: (error?: Error) => void;
}

/** A client whose patches wait until the test releases them, one by one. */
function scriptedClient() {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client: KubeClient = {
    target: 'test',
    ping: async () => {},
    listNames: async () => [],
    canI: async () => true,
    mergePatch: (ref, annotations) =>
      new Promise<void>((resolve, reject) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        calls.push({
          ref,
          value: Object.values(annotations)[0]!,
          release: (error) => {
            inFlight -= 1;
            if (error) reject(error);
            else resolve();
          },
        });
      }),
  };
  return { client, calls, maxInFlight: () => maxInFlight };
}

function recordingReporter() {
  const finished: PatchReport[] = [];
  const reporter: ReconcileReporter = {
    queued() {},
    coalesced() {},
    retrying() {},
    selected() {},
    selectionFailed() {},
    finished: (report) => finished.push(report),
    pending() {},
  };
  return { reporter, finished };
}

const selector: ObjectSelector = {
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  namespace: 'flux-system',
  name: 'app',
  annotation: { key: 'reconcile.fluxcd.io/requestedAt', value: (now) => now.toISOString() },
  key: 'app',
  label: 'GitRepository flux-system/app',
};

function setup() {
  const clock = manualClock();
  const { client, calls, maxInFlight } = scriptedClient();
  const { reporter, finished } = recordingReporter();
  const dispatcher = createDispatcher({ concurrency: 8, policy: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 }, clock });
  const reconciler = createReconciler({ client, dryRun: false, debounceMs: 100, maxPending: 100, dispatcher, clock, reporter });
  const ticket = (seq: number): Ticket => ({ seq, acceptedAt: clock.now() });
  return { clock, calls, maxInFlight, finished, reconciler, ticket };
}

describe('reconciler', () => {
  test('a push during a backoff waits for the retry, then gets one newer patch: requestedAt never goes back', async () => {
    const { clock, calls, maxInFlight, finished, reconciler, ticket } = setup();
    reconciler.submit(ticket(1), [selector]);
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.release(new KubeError('slow down', 'http', 429, 1000));
    await settle();

    await clock.advance(300); // past the debounce window, inside the Retry-After
    reconciler.submit(ticket(2), [selector]);
    await settle();
    expect(calls).toHaveLength(1); // no parallel patch to a throttled API server
    expect(reconciler.pending()).toBe(2);

    await clock.advance(700);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.value).toBe(calls[0]!.value); // the retry keeps its value
    calls[1]!.release();
    await settle();
    expect(calls).toHaveLength(3);
    expect(Date.parse(calls[2]!.value)).toBeGreaterThan(Date.parse(calls[1]!.value));
    calls[2]!.release();
    await settle();

    expect(maxInFlight()).toBe(1);
    expect(finished.map((report) => [report.outcome, report.tickets.map((t) => t.seq)])).toEqual([
      ['success', [1]],
      ['success', [2]],
    ]);
    expect(reconciler.pending()).toBe(0);
  });

  test('requests arriving while a patch runs fold into one follow-up', async () => {
    const { clock, calls, reconciler, ticket, finished } = setup();
    reconciler.submit(ticket(1), [selector]);
    await settle();
    for (let seq = 2; seq <= 5; seq += 1) {
      await clock.advance(150); // every request opens a new debounce window; the patch is still running
      reconciler.submit(ticket(seq), [selector]);
    }
    await clock.advance(150);
    expect(calls).toHaveLength(1);
    calls[0]!.release();
    await settle();
    expect(calls).toHaveLength(2);
    calls[1]!.release();
    await settle();
    expect(finished.map((report) => report.tickets.map((t) => t.seq))).toEqual([[1], [2, 3, 4, 5]]);
  });

  test('shutdown waits for a follow-up queued behind a running patch', async () => {
    const { calls, reconciler, ticket } = setup();
    reconciler.submit(ticket(1), [selector]);
    await settle();
    reconciler.submit(ticket(2), [selector]); // inside the window: flushed by shutdown, then queued behind patch 1
    let done = false;
    const stopping = reconciler.shutdown(30_000).then((result) => {
      done = true;
      return result;
    });
    await settle();
    calls[0]!.release();
    await settle();
    expect(done).toBe(false);
    expect(calls).toHaveLength(2);
    calls[1]!.release();
    expect(await stopping).toEqual({ unfinished: 0 });
  });

  test('shutdown gives up after its timeout, reporting what was unfinished', async () => {
    const { clock, calls, reconciler, ticket, finished } = setup();
    reconciler.submit(ticket(1), [selector]);
    await settle();
    calls[0]!.release(new KubeError('slow down', 'http', 429, 60_000));
    await settle();
    const stopping = reconciler.shutdown(5_000);
    await clock.advance(5_000);
    expect(await stopping).toEqual({ unfinished: 1 });
    expect(finished[0]).toMatchObject({ outcome: 'failed', retriesExhausted: true });
  });
});
