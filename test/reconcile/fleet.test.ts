/** The fleet: selectors to their clusters, one submit per object and cluster, room judged per cluster. */
import { describe, expect, test } from 'bun:test';
import { createFleet } from '../../src/reconcile/fleet.ts';
import type { ObjectSelector, Reconciler, Ticket } from '../../src/reconcile/reconciler.ts';

function member(room = true) {
  const submitted: string[][] = [];
  const reconciler: Reconciler = {
    submit: (_ticket, selectors) => void submitted.push(selectors.map((selector) => selector.label)),
    hasRoom: () => room,
    pending: () => submitted.length,
    shutdown: async () => ({ unfinished: submitted.length }),
  };
  return { reconciler, submitted };
}

const selector = (name: string, clusters?: string[], key = `key-${name}-${clusters?.join(',') ?? 'all'}`): ObjectSelector => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name, annotation: { key: 'reconcile.fluxcd.io/requestedAt' }, key, label: name, ...(clusters ? { clusters } : {}),
});
const ticket: Ticket = { seq: 1, acceptedAt: 0 };

describe('fleet', () => {
  test('a selector without clusters goes to every cluster, one naming clusters only to them; each object once per cluster', () => {
    const eu = member();
    const us = member();
    const fleet = createFleet({ members: [{ name: 'eu', reconciler: eu.reconciler }, { name: 'us', reconciler: us.reconciler }] });
    fleet.submit(ticket, [selector('everywhere'), selector('only-us', ['us']), selector('everywhere', ['eu'], 'discovered'), selector('unknown-cluster', ['mars'])]);
    expect(eu.submitted).toEqual([['everywhere']]);
    expect(us.submitted).toEqual([['everywhere', 'only-us']]);
    expect(fleet.pending()).toBe(2);
  });

  test('refused (503) only when no cluster it concerns has room; a full cluster of an accepted delivery is reported, the others go on', () => {
    const full = member(false);
    const free = member(true);
    const refused: string[] = [];
    const fleet = createFleet({ members: [{ name: 'full', reconciler: full.reconciler }, { name: 'free', reconciler: free.reconciler }], refused: (cluster, _ticket, selectors) => refused.push(`${cluster}: ${selectors.map((s) => s.label)}`) });
    expect(fleet.hasRoom([selector('a', ['full'])])).toBe(false);
    expect(fleet.hasRoom([selector('a')])).toBe(true);
    fleet.submit(ticket, [selector('a')]);
    expect(free.submitted).toEqual([['a']]);
    expect(full.submitted).toEqual([]);
    expect(refused).toEqual(['full: a']);
  });

  test('one cluster (the kubernetes: connection) behaves as its reconciler does', async () => {
    const only = member(false);
    const fleet = createFleet({ members: [{ reconciler: only.reconciler }] });
    expect(fleet.hasRoom([selector('a')])).toBe(false);
    fleet.submit(ticket, [selector('a'), selector('a', undefined, 'same-object-other-key')]);
    expect(only.submitted).toEqual([['a']]);
    expect(await fleet.shutdown(10)).toEqual({ unfinished: 1 });
  });
});
