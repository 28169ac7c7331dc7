/**
 * Selectors that carry a filter (a Receiver's resourceFilter bound to one delivery): their objects are listed
 * (a named one by field selector, so no `get` permission is needed), the filter decides per object, and the
 * chosen objects then take the reconciler's own per-object path. A filter's LIST is shared for the debounce
 * window like a label selector's, but each delivery applies its own filter.
 */
import { describe, expect, test } from 'bun:test';
import { createDispatcher } from '../../src/reconcile/dispatcher.ts';
import { createRequestedAtClock } from '../../src/core/kinds.ts';
import type { KubeApi, KubeClient, ObjectRef } from '../../src/kube/client.ts';
import { createLabelSelection } from '../../src/reconcile/label-selection.ts';
import { createReconciler, type ReconcileReporter, type Reconciler } from '../../src/reconcile/reconciler.ts';
import { type FilterVerdict, type ObjectFilter, type ObjectSelector } from '../../src/core/selector.ts';
import { acceptNow, testJournal } from '../support/journal.ts';
import { manualClock, settle } from '../support/manual-clock.ts';

const WINDOW = 2000;
const COLLECTION = '/apis/source.toolkit.fluxcd.io/v1/namespaces/apps/gitrepositories';

const objects = [
  { metadata: { name: 'web', namespace: 'apps', labels: { tier: 'front' }, managedFields: [{ manager: 'kubectl' }] } },
  { metadata: { name: 'api', namespace: 'apps', labels: { tier: 'back' } } },
];

function setup() {
  const clock = manualClock(Date.UTC(2031, 0, 1));
  const lists: string[] = [];
  const patched: string[] = [];
  const seen: Record<string, unknown>[] = [];
  const api: KubeApi = {
    target: 'test',
    collectionPath: async () => COLLECTION,
    request: async (_method, path) => {
      lists.push(path);
      const query = new URL(path, 'http://x').searchParams;
      const field = query.get('fieldSelector');
      const labels = query.get('labelSelector');
      const items = objects.filter((object) => (field ? field === `metadata.name=${object.metadata.name}` : labels ? labels === `tier=${object.metadata.labels.tier}` || labels === 'app=all' : true));
      return { items };
    },
    stream: () => Promise.reject(new Error('no watch here')),
    forgetDiscovery() {},
  };
  const client: KubeClient = {
    target: 'test',
    api,
    ping: async () => {},
    canI: async () => true,
    listNames: async () => objects.map((object) => object.metadata.name),
    mergePatch: async (ref: ObjectRef) => {
      patched.push(ref.name);
      return {};
    },
  };
  const failures: string[] = [];
  const reporter: ReconcileReporter = {
    queued() {},
    coalesced() {},
    retrying() {},
    selected() {},
    selectionFailed: (_selector, _kind, error) => failures.push(error),
    finished() {},
    pending() {},
  };
  const dispatcher = createDispatcher({ concurrency: 4, policy: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 }, clock });
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
  });
  /** How many times filters were called, and in how many turns (a webhook's selectors decide in one). */
  const calls = { filters: 0, turns: 0 };
  let inTurn = false;
  const filter = (accepts: (object: Readonly<Record<string, unknown>>) => FilterVerdict): ObjectFilter => ({
    async accepts(objects) {
      calls.filters += 1;
      if (!inTurn) {
        calls.turns += 1;
        inTurn = true;
        queueMicrotask(() => (inTurn = false));
      }
      seen.push(...objects);
      return objects.map(accepts);
    },
  });
  return {
    clock,
    lists,
    patched,
    failures,
    seen,
    journal,
    calls,
    filter,
    submit: (selectors: ObjectSelector[]) => acceptNow(journal, selectors),
  };
}

const base = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'apps', annotation: { key: 'reconcile.fluxcd.io/requestedAt' } };
const named = (name: string, filter?: ObjectFilter): ObjectSelector => ({ ...base, name, key: `git|${name}`, label: `GitRepository apps/${name}`, ...(filter ? { filter } : {}) });
const labelled = (filter?: ObjectFilter): ObjectSelector => ({ ...base, matchLabels: { app: 'all' }, key: 'git|app=all', label: 'GitRepository apps/{app=all}', ...(filter ? { filter } : {}) });
const nameIs = (name: string) => (object: Readonly<Record<string, unknown>>) => (object.metadata as { name: string }).name === name;

describe('a named selector with a filter', () => {
  test('its object is read by field selector and patched only when the filter accepts it', async () => {
    const run = setup();
    run.submit([named('web', run.filter(() => true))]);
    await settle();
    expect(run.lists).toEqual([`${COLLECTION}?limit=500&fieldSelector=metadata.name%3Dweb`]);
    expect(run.patched).toEqual(['web']);
    // What the filter sees: apiVersion, kind and metadata, without managedFields.
    expect(run.seen[0]).toEqual({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'web', namespace: 'apps', labels: { tier: 'front' } } });

    await run.clock.advance(WINDOW);
    run.submit([named('web', run.filter(() => false))]);
    await settle();
    expect(run.patched).toEqual(['web']);
  });

  test('an object the filter cannot decide on is left alone and reported', async () => {
    const run = setup();
    run.submit([named('web', run.filter(() => ({ error: 'No such key: team' })))]);
    await settle();
    expect(run.patched).toEqual([]);
    expect(run.failures).toEqual(['the filter could not decide for web: No such key: team']);
  });

  test('without a filter it is patched at once, with no LIST', async () => {
    const run = setup();
    run.submit([named('web')]);
    await settle();
    expect(run.lists).toEqual([]);
    expect(run.patched).toEqual(['web']);
  });

  test('a filter that cannot decide for the delivery at all: nothing of it is patched, and the reason is reported', async () => {
    const run = setup();
    const stopped: ObjectFilter = { accepts: async () => ({ error: 'join() would build a string of more than 1048576 characters' }) };
    run.submit([named('web', stopped), labelled(stopped)]);
    await settle();
    expect(run.patched).toEqual([]);
    expect(run.failures).toEqual([
      'the filter could not decide for this delivery: join() would build a string of more than 1048576 characters',
      'the filter could not decide for this delivery: join() would build a string of more than 1048576 characters',
    ]);
  });

  test('it is owed until its object is read and patched (a query item, then the object\'s own)', async () => {
    const run = setup();
    run.submit([named('web', run.filter(() => true))]);
    expect(run.journal.pending()).toBe(1);
    await settle();
    expect(run.patched).toEqual(['web']);
  });
});

describe('a webhook with several filtered selectors', () => {
  test('every selector is listed first, then all their filters are called in one turn (one evaluation per delivery)', async () => {
    const run = setup();
    run.submit([named('web', run.filter(() => true)), labelled(run.filter(nameIs('api'))), named('api', run.filter(() => false))]);
    await settle();
    expect(run.calls).toEqual({ filters: 3, turns: 1 });
    expect(run.patched.sort()).toEqual(['api', 'web']);
  });
});

describe('a label selector with a filter', () => {
  test('of two labelled objects, only the one the filter selects is patched', async () => {
    const run = setup();
    run.submit([labelled(run.filter(nameIs('api')))]);
    await settle();
    expect(run.patched).toEqual(['api']);
  });

  test('deliveries within the window share one LIST, each with its own filter', async () => {
    const run = setup();
    run.submit([labelled(run.filter(nameIs('api')))]);
    run.submit([labelled(run.filter(nameIs('web')))]);
    await settle();
    expect(run.lists).toHaveLength(1);
    expect(run.patched.sort()).toEqual(['api', 'web']);

    await run.clock.advance(WINDOW);
    run.submit([labelled(run.filter(nameIs('web')))]);
    await run.clock.advance(WINDOW);
    expect(run.lists).toHaveLength(2);
  });
});
