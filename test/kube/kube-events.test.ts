/**
 * The Event recorder under load, on an API whose answers the test releases by hand: Events wait behind a few
 * writes in flight instead of all going out at once, an object patched again while its Event waits adds to that
 * Event, and every patched object still gets its Event in the end. (The Events themselves, read back from the real
 * API server, are in test/integration/events-real-apiserver.test.ts.)
 */
import { describe, expect, test } from 'bun:test';
import { createEventRecorder } from '../../src/kube/events.ts';
import type { KubeApi, ObjectRef } from '../../src/kube/client.ts';
import type { Ticket } from '../../src/core/ticket.ts';
import { manualClock, settle } from '../support/manual-clock.ts';

interface Call {
  method: string;
  path: string;
  body: any;
  answer(): void;
}

/** An API that holds every request until the test answers it. */
function heldApi() {
  const calls: Call[] = [];
  let open = 0;
  let mostOpen = 0;
  const api: KubeApi = {
    target: 'https://api.test',
    request(method, path, init) {
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      return new Promise((resolve) => {
        calls.push({ method, path, body: JSON.parse(init.body ?? 'null'), answer: () => void ((open -= 1), resolve(undefined)) });
      });
    },
    stream: () => Promise.reject(new Error('not used')),
    collectionPath: () => Promise.reject(new Error('not used')),
    forgetDiscovery() {},
  };
  return { api, calls, open: () => open, mostOpen: () => mostOpen };
}

const ref = (name: string): ObjectRef => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name });
const ticket = (seq: number): Ticket => ({ seq, acceptedAt: 0, cause: { provider: 'github', repository: 'org/app', ref: 'refs/heads/main', deliveryId: `d-${seq}` } });

async function answerAll(held: ReturnType<typeof heldApi>): Promise<void> {
  for (let round = 0; round < 100 && held.calls.some((call) => call.answer); round += 1) {
    const waiting = held.calls.filter((call) => call.answer);
    for (const call of waiting) {
      const answer = call.answer;
      call.answer = undefined as never;
      answer();
    }
    await settle();
  }
}

describe('Kubernetes Events under load', () => {
  test('50 objects patched at once: at most 4 Event writes in flight, and every object gets its Event', async () => {
    const held = heldApi();
    const failed: string[] = [];
    const events = createEventRecorder({ api: held.api, clock: manualClock(), windowMs: 4000, instance: 'test', failed: (reason) => failed.push(reason) });
    for (let index = 0; index < 50; index += 1) events.requested(ref(`app-${index}`), `uid-${index}`, [ticket(index)], 0);
    await settle();
    expect(held.open()).toBe(4);
    await answerAll(held);
    expect(held.mostOpen()).toBe(4);
    const created = held.calls.filter((call) => call.method === 'POST').map((call) => call.body.regarding.name);
    expect(created.sort()).toEqual(Array.from({ length: 50 }, (_, index) => `app-${index}`).sort());
    expect(failed).toEqual([]);
  });

  test('an object patched again while its Event waits adds to that Event: one write, a series of the patches', async () => {
    const held = heldApi();
    const events = createEventRecorder({ api: held.api, clock: manualClock(), windowMs: 4000, instance: 'test', failed: () => {} });
    for (let index = 0; index < 4; index += 1) events.requested(ref(`busy-${index}`), undefined, [ticket(index)], 0);
    events.requested(ref('app'), 'uid-app', [ticket(10)], 0);
    events.requested(ref('app'), 'uid-app', [ticket(11)], 0);
    events.requested(ref('app'), 'uid-app', [ticket(12)], 0);
    await settle();
    await answerAll(held);
    const forApp = held.calls.filter((call) => call.body?.regarding?.name === 'app' || call.path.includes('/events/app.'));
    expect(forApp).toHaveLength(1);
    expect(forApp[0]!.method).toBe('POST');
    expect(forApp[0]!.body.series.count).toBe(3);
    expect(forApp[0]!.body.note).toContain('delivery d-12');
  });

  test('a patch after the Event was written, within the window, patches its series count', async () => {
    const held = heldApi();
    const clock = manualClock();
    const events = createEventRecorder({ api: held.api, clock, windowMs: 4000, instance: 'test', failed: () => {} });
    events.requested(ref('app'), 'uid-app', [ticket(1)], 0);
    await settle();
    await answerAll(held);
    await clock.advance(1000);
    events.requested(ref('app'), 'uid-app', [ticket(2)], 0);
    await settle();
    await answerAll(held);
    expect(held.calls.map((call) => call.method)).toEqual(['POST', 'PATCH']);
    expect(held.calls[1]!.body.series.count).toBe(2);
  });
});

describe('Events wait for the cluster\'s patches', () => {
  test('while patches wait or run, Events are held; written when they are done (wake), or once they waited maxDelayMs', async () => {
    const held = heldApi();
    const clock = manualClock();
    let busy = true;
    const events = createEventRecorder({ api: held.api, clock, windowMs: 4000, instance: 'test', failed: () => {}, busy: () => busy, maxDelayMs: 5000 });
    events.requested(ref('a'), 'uid-a', [ticket(1)], 0);
    events.requested(ref('b'), 'uid-b', [ticket(2)], 0);
    await settle();
    expect(held.calls).toHaveLength(0);
    busy = false;
    events.wake();
    await settle();
    expect(held.calls.map((call) => call.body.regarding.name)).toEqual(['a', 'b']);
    await answerAll(held);

    busy = true;
    events.requested(ref('c'), 'uid-c', [ticket(3)], 0);
    await clock.advance(4999);
    expect(held.calls).toHaveLength(2);
    await clock.advance(1); // a cluster that never goes quiet still gets its Events, late
    expect(held.calls.at(-1)!.body.regarding.name).toBe('c');
  });
});
