/** The fleet: each work item to its cluster's reconciler. */
import { describe, expect, test } from 'bun:test';
import { createFleet } from '../../src/reconcile/fleet.ts';
import type { Reconciler } from '../../src/reconcile/reconciler.ts';
import type { ObjectSelector } from '../../src/core/selector.ts';
import type { WorkItem } from '../../src/reconcile/work-item.ts';

function member() {
  const submitted: string[][] = [];
  const reconciler: Reconciler = {
    submit: (items) => void submitted.push(items.map((item) => item.selector.label)),
    pending: () => submitted.length,
    shutdown: async () => ({ unfinished: submitted.length }),
  };
  return { reconciler, submitted };
}

const selector: ObjectSelector = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app', annotation: { key: 'reconcile.fluxcd.io/requestedAt' }, key: 'app', label: 'app' };
const item = (cluster: string | undefined, label: string): WorkItem => ({ id: `${cluster}|${label}`, ...(cluster ? { cluster } : {}), selector: { ...selector, label }, revision: 1, tickets: [], untracked: 0, since: 0 });

describe('fleet', () => {
  test('each item goes to the reconciler of its cluster; an item of a cluster no longer configured goes nowhere', async () => {
    const eu = member();
    const us = member();
    const fleet = createFleet([{ name: 'eu', reconciler: eu.reconciler }, { name: 'us', reconciler: us.reconciler }]);
    fleet.submit([item('eu', 'a'), item('us', 'b'), item('us', 'c'), item('mars', 'd')]);
    expect(eu.submitted).toEqual([['a']]);
    expect(us.submitted).toEqual([['b', 'c']]);
    expect(fleet.pending()).toBe(2);
    expect(await fleet.shutdown(10)).toEqual({ unfinished: 2 });
  });

  test('one cluster (the kubernetes: connection) takes every item', () => {
    const only = member();
    createFleet([{ reconciler: only.reconciler }]).submit([item(undefined, 'a'), item(undefined, 'b')]);
    expect(only.submitted).toEqual([['a', 'b']]);
  });
});
