/**
 * The per-object reconcile state machine, driven by one table of scenarios on a manual clock with a scripted
 * API server whose answers the test releases one by one.
 */
import { describe, expect, test } from 'bun:test';
import { createDispatcher } from '../../src/reconcile/dispatcher.ts';
import { createRequestedAtClock } from '../../src/core/kinds.ts';
import { createDryRunClient } from '../../src/kube/dry-run-client.ts';
import { KubeError, type KubeClient, type ObjectRef } from '../../src/kube/client.ts';
import { createLabelSelection } from '../../src/reconcile/label-selection.ts';
import { createReconciler, type PatchOutcome, type PatchReport, type ReconcileReporter, type Reconciler } from '../../src/reconcile/reconciler.ts';
import { type ObjectSelector } from '../../src/core/selector.ts';
import { type Ticket } from '../../src/core/ticket.ts';
import { acceptNow, testJournal } from '../support/journal.ts';
import { manualClock, settle } from '../support/manual-clock.ts';

const WINDOW = 2000;

interface Call {
  ref: ObjectRef;
  value: string;
  at: number;
  endedAt?: number;
  answered: boolean;
  answer(error?: Error): void;
}

function named(name: string): ObjectSelector {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    namespace: 'flux-system',
    name,
    annotation: { key: 'reconcile.fluxcd.io/requestedAt' },
    key: `git|${name}`,
    label: `GitRepository flux-system/${name}`,
  };
}

const labelled: ObjectSelector = {
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  namespace: 'flux-system',
  matchLabels: { app: 'web' },
  annotation: { key: 'reconcile.fluxcd.io/requestedAt' },
  key: 'ks|app=web',
  label: 'Kustomization flux-system/{app=web}',
};

function setup(options: { maxTrackedTickets?: number; listed?: () => Promise<string[]> } = {}) {
  const clock = manualClock(Date.UTC(2031, 0, 1));
  const calls: Call[] = [];
  const lists: number[] = [];
  const client: KubeClient = {
    target: 'test',
    api: createDryRunClient().api,
    ping: async () => {},
    canI: async () => true,
    listNames: async () => {
      lists.push(clock.now());
      return (options.listed ?? (async () => ['web-a', 'web-b']))();
    },
    mergePatch: (ref, annotations) =>
      new Promise<{ uid?: string }>((resolve, reject) => {
        const call: Call = {
          ref,
          value: Object.values(annotations)[0]!,
          at: clock.now(),
          answered: false,
          answer(error) {
            call.answered = true;
            call.endedAt = clock.now();
            if (error) reject(error);
            else resolve({});
          },
        };
        calls.push(call);
      }),
  };
  const finished: PatchReport[] = [];
  const pendingSeen: number[] = [];
  const reporter: ReconcileReporter = {
    queued() {},
    coalesced() {},
    retrying() {},
    selected() {},
    selectionFailed() {},
    finished: (report) => finished.push(report),
    pending: (count) => pendingSeen.push(count),
  };
  const dispatcher = createDispatcher({ concurrency: 8, policy: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 }, clock });
  // The journal owes what is accepted and feeds it to reconcile, as in the gateway (in memory here).
  let reconciler: Reconciler | undefined;
  const journal = testJournal({ clock, feed: (items) => reconciler!.submit(items) });
  reconciler = createReconciler({
    client,
    dryRun: false,
    debounceMs: WINDOW,
    ledger: journal,
    dispatcher,
    selection: createLabelSelection({ client, dispatcher, clock, maxAgeMs: WINDOW }),
    clock,
    requestedAt: createRequestedAtClock(),
    reporter,
    maxTrackedTickets: options.maxTrackedTickets,
  });
  const t0 = clock.now();
  const pushes: { ticket: Ticket; names: string[] }[] = [];
  return {
    clock,
    calls,
    lists,
    finished,
    reconciler,
    journal,
    /** Milliseconds since the start of the scenario. */
    at: (time: number) => time - t0,
    push(selectors: ObjectSelector[] = [named('app')]) {
      const ticket = acceptNow(journal, selectors);
      pushes.push({ ticket, names: selectors.flatMap((selector) => (selector.name === undefined ? [] : [selector.name])) });
      return ticket;
    },
    /** Answers the oldest unanswered PATCH. */
    async answer(error?: Error) {
      const call = calls.find((c) => !c.answered);
      if (!call) throw new Error('no PATCH is waiting for an answer');
      call.answer(error);
      await settle();
    },
    pushes,
  };
}

type Harness = ReturnType<typeof setup>;
type Step = (h: Harness) => unknown;

const push: Step = (h) => h.push();
const wait = (ms: number): Step => (h) => h.clock.advance(ms);
const ok: Step = (h) => h.answer();
const fail = (status: number, retryAfterMs?: number): Step => (h) => h.answer(new KubeError(`status ${status}`, 'http', status, retryAfterMs));

/**
 * Each row: steps, then the PATCHes expected (ms since the start) and the deliveries each finished patch served.
 * Every row is also checked for the invariants: never two patches of one object at once, every ticket served by
 * a patch that started at or after it was accepted, and nothing left pending at the end.
 */
const table: { name: string; steps: Step[]; patches: number[]; served: number[][]; outcomes?: PatchOutcome[] }[] = [
  { name: 'one push: one patch at once', steps: [push, ok, wait(WINDOW)], patches: [0], served: [[1]] },
  {
    name: 'a burst inside the window: the leading patch, then one trailing patch at the end of the window',
    steps: [push, ok, wait(100), push, wait(400), push, wait(1499), push, wait(1), ok, wait(WINDOW)],
    patches: [0, 2000],
    served: [[1], [2, 3, 4]],
  },
  {
    name: 'a push after a quiet window is a new leading edge',
    steps: [push, ok, wait(5000), push, ok, wait(WINDOW)],
    patches: [0, 5000],
    served: [[1], [2]],
  },
  {
    name: 'a push during a backoff waits for the retry and the window: no parallel patch, requestedAt moves forward',
    steps: [push, fail(429, 1000), wait(300), push, wait(700), ok, wait(1000), ok, wait(WINDOW)],
    patches: [0, 1000, 2000],
    served: [[1], [2]],
  },
  {
    name: 'a patch slower than the window: the trailing patch starts when it ends',
    steps: [push, wait(500), push, wait(2500), ok, ok, wait(WINDOW)],
    patches: [0, 3000],
    served: [[1], [2]],
  },
  {
    name: '404 is final: reported once, not retried',
    steps: [push, fail(404), wait(WINDOW)],
    patches: [0],
    served: [[1]],
    outcomes: ['not_found'],
  },
  {
    name: '503 is retried with backoff until it succeeds',
    steps: [push, fail(503), wait(100), fail(503), wait(200), ok, wait(WINDOW)],
    patches: [0, 75, 250], // backoff 75 ms after the first answer, 150 ms after the second (answered at 100)
    served: [[1]],
  },
];

describe('reconciler state machine', () => {
  for (const row of table) {
    test(row.name, async () => {
      const h = setup();
      for (const step of row.steps) {
        await step(h);
        await settle();
      }
      expect(h.calls.map((call) => h.at(call.at))).toEqual(row.patches);
      expect(h.finished.map((report) => report.tickets.map((t) => t.seq))).toEqual(row.served);
      if (row.outcomes) expect(h.finished.map((report) => report.outcome)).toEqual(row.outcomes);
      expectInvariants(h);
    });
  }

  test('every patch carries a new requestedAt, and a retry keeps its patch\'s value', async () => {
    const h = setup();
    h.push();
    await settle();
    await h.answer(new KubeError('busy', 'http', 503));
    h.push();
    await h.clock.advance(100);
    await h.answer();
    await h.clock.advance(WINDOW);
    await h.answer();
    const [first, retry, trailing] = h.calls.map((call) => call.value);
    expect(retry).toBe(first!);
    expect(Date.parse(trailing!)).toBeGreaterThan(Date.parse(first!));
  });

  test('objects are independent: one object backing off does not delay another', async () => {
    const h = setup();
    h.push([named('a'), named('b')]);
    await settle();
    await h.answer(new KubeError('busy', 'http', 429, 60_000)); // a backs off for a minute
    await h.answer(); // b done
    await h.clock.advance(WINDOW);
    h.push([named('b')]);
    await settle();
    expect(h.calls.map((call) => `${call.ref.name}@${h.at(call.at)}`)).toEqual(['a@0', 'b@0', 'b@2000']);
  });
});

describe('shutdown', () => {
  test('starts a waiting patch at once instead of at the end of the window, and waits for it', async () => {
    const h = setup();
    h.push();
    await settle();
    await h.answer();
    await h.clock.advance(100);
    h.push();
    let done = false;
    const stopping = h.reconciler.shutdown(30_000).then((result) => ((done = true), result));
    await settle();
    expect(h.calls.map((call) => h.at(call.at))).toEqual([0, 100]);
    expect(done).toBe(false);
    await h.answer();
    expect(await stopping).toEqual({ unfinished: 0 });
    expectInvariants(h);
  });

  test('a push that arrives while shutting down is still patched, and shutdown waits for it', async () => {
    const h = setup();
    h.push();
    await settle();
    let done = false;
    const stopping = h.reconciler.shutdown(30_000).then((result) => ((done = true), result));
    await h.clock.advance(50);
    h.push(); // the patch of push 1 is still running: this one waits for it, with no window
    await settle();
    await h.answer();
    expect(h.calls.map((call) => h.at(call.at))).toEqual([0, 50]);
    expect(done).toBe(false);
    await h.answer();
    expect(await stopping).toEqual({ unfinished: 0 });
    h.push([named('late')]); // after everything finished: patched at once all the same
    await settle();
    expect(h.calls.at(-1)!.ref.name).toBe('late');
    await h.answer();
    expectInvariants(h);
  });

  test('gives up after its timeout, reporting what was unfinished; the work stays owed in the journal', async () => {
    const h = setup();
    h.push();
    await settle();
    await h.answer(new KubeError('slow down', 'http', 429, 60_000));
    const stopping = h.reconciler.shutdown(5_000);
    await h.clock.advance(5_000);
    expect(await stopping).toEqual({ unfinished: 1 });
    expect(h.finished[0]).toMatchObject({ outcome: 'failed', interrupted: true, retriesExhausted: false });
    expect(h.journal.pending()).toBe(1);
    expect(h.journal.failures()).toEqual([]);
  });
});

describe('settling with the journal', () => {
  test('a patch settles what it served; a delivery folded in while it ran stays owed until the trailing patch', async () => {
    const h = setup();
    h.push();
    await settle();
    expect(h.journal.pending()).toBe(1);
    await h.clock.advance(100);
    h.push(); // folded into the next patch: a newer revision
    await h.answer();
    expect(h.journal.pending()).toBe(1);
    await h.clock.advance(WINDOW);
    await h.answer();
    expect(h.journal.pending()).toBe(0);
    expectInvariants(h);
  });

  test('an answer that will not change moves the work to the failures; a retry owes it again', async () => {
    const h = setup();
    h.push([named('gone')]);
    await settle();
    await h.answer(new KubeError('not found', 'http', 404));
    expect(h.journal.pending()).toBe(0);
    expect(h.journal.failures().map((failure) => [failure.item.selector.name, failure.outcome])).toEqual([['gone', 'not_found']]);
    await h.clock.advance(WINDOW);
    expect(h.journal.retry()).toBe(1);
    await settle();
    expect(h.calls.map((call) => call.ref.name)).toEqual(['gone', 'gone']);
    await h.answer();
    expect(h.journal.failures()).toEqual([]);
    expect(h.journal.pending()).toBe(0);
  });

  test('retries run until reconcile.retry.maxAge after the oldest delivery, not for a count of attempts', async () => {
    const clock = manualClock(Date.UTC(2031, 0, 1));
    let attempts = 0;
    const client: KubeClient = {
      target: 'test', api: createDryRunClient().api, ping: async () => {}, canI: async () => true, listNames: async () => [],
      mergePatch: async () => {
        attempts += 1;
        throw new KubeError('connection refused', 'connection');
      },
    };
    let reconciler: Reconciler | undefined;
    const journal = testJournal({ clock, feed: (items) => reconciler!.submit(items) });
    const dispatcher = createDispatcher({ concurrency: 8, policy: { maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 1000, maxDelayMs: 30_000, random: () => 0.5 }, clock });
    const finished: PatchReport[] = [];
    reconciler = createReconciler({
      client, dryRun: false, debounceMs: WINDOW, ledger: journal, dispatcher, selection: createLabelSelection({ client, dispatcher, clock, maxAgeMs: WINDOW }), clock,
      requestedAt: createRequestedAtClock(), maxAgeMs: 10 * 60_000,
      reporter: { queued() {}, coalesced() {}, retrying() {}, selected() {}, selectionFailed() {}, finished: (report) => finished.push(report), pending() {} },
    });
    acceptNow(journal, [named('app')]);
    await clock.advance(9 * 60_000);
    expect(finished).toEqual([]);
    expect(attempts).toBeGreaterThan(8); // more than the old fixed count: an outage is waited out
    await clock.advance(2 * 60_000);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ outcome: 'failed', retriesExhausted: true });
    expect(finished[0]!.error).toContain('reconcile.retry.maxAge');
    expect(journal.failures()).toHaveLength(1);
  });
});

describe('label selectors', () => {
  test('a burst lists once per window; the selected objects follow the same per-object path', async () => {
    const h = setup();
    h.push([labelled]);
    await settle();
    expect(h.lists).toHaveLength(1);
    expect(h.calls.map((call) => call.ref.name)).toEqual(['web-a', 'web-b']);
    await h.answer();
    await h.answer();
    await h.clock.advance(500);
    h.push([labelled]);
    h.push([labelled]);
    await settle();
    expect(h.lists).toHaveLength(1); // the first LIST is at most one window old
    await h.clock.advance(1500);
    expect(h.calls.map((call) => `${call.ref.name}@${h.at(call.at)}`)).toEqual(['web-a@0', 'web-b@0', 'web-a@2000', 'web-b@2000']);
    await h.answer();
    await h.answer();
    await h.clock.advance(WINDOW);
    h.push([labelled]);
    await settle();
    expect(h.lists).toHaveLength(2); // a new window: listed again
    await h.answer();
    await h.answer();
    await h.clock.advance(WINDOW);
    expectInvariants(h);
  });

  test('a label selector and a name that reach the same object share its one patch at a time', async () => {
    const h = setup({ listed: async () => ['web-a'] });
    const nameOfSame: ObjectSelector = { ...named('web-a'), apiVersion: labelled.apiVersion, kind: labelled.kind, key: 'ks|web-a' };
    h.push([labelled, nameOfSame]);
    await settle();
    expect(h.calls).toHaveLength(1);
    expect(h.reconciler.pending()).toBe(1);
    await h.answer();
    await h.clock.advance(WINDOW);
    await h.answer();
    expect(h.calls.map((call) => h.at(call.at))).toEqual([0, 2000]);
    expectInvariants(h);
  });

  test('a failed LIST is reported and not cached', async () => {
    let attempt = 0;
    const h = setup({ listed: async () => (++attempt === 1 ? Promise.reject(new KubeError('no', 'http', 403)) : ['web-a']) });
    h.push([labelled]);
    await settle();
    expect(h.calls).toHaveLength(0);
    expect(h.reconciler.pending()).toBe(0);
    h.push([labelled]);
    await settle();
    expect(h.lists).toHaveLength(2);
    expect(h.calls).toHaveLength(1);
    await h.answer();
  });
});

describe('bounded memory', () => {
  test('a flood into one waiting patch keeps at most maxTrackedTickets webhooks and counts the rest', async () => {
    const h = setup({ maxTrackedTickets: 3 });
    for (let i = 0; i < 6; i += 1) h.push();
    await settle();
    await h.answer();
    await h.clock.advance(WINDOW);
    await h.answer();
    expect(h.finished.map((report) => [report.tickets.map((t) => t.seq), report.untracked])).toEqual([
      [[1], 0],
      [[2, 3, 4], 2],
    ]);
  });
});

/** Never two patches of one object at once; every push followed by a patch of each named object that starts at or after it; nothing pending. */
function expectInvariants(h: Harness): void {
  const byObject = new Map<string, Call[]>();
  for (const call of h.calls) byObject.set(call.ref.name, [...(byObject.get(call.ref.name) ?? []), call]);
  for (const calls of byObject.values()) {
    for (let i = 1; i < calls.length; i += 1) expect(calls[i]!.at).toBeGreaterThanOrEqual(calls[i - 1]!.endedAt!);
  }
  for (const { ticket, names } of h.pushes) {
    for (const name of names) expect(h.calls.some((call) => call.ref.name === name && call.at >= ticket.acceptedAt)).toBe(true);
  }
  expect(h.reconciler.pending()).toBe(0);
  expect(h.journal.pending()).toBe(0);
}
