/**
 * The follower on an in-memory cluster view (statuses set as the controllers write them) and a manual clock: what
 * the observers are told when a patch folds several commits, when an object is not watched, when a failure is
 * retried into success, and when more objects are followed than `maxFollowed` allows.
 */
import { describe, expect, test } from 'bun:test';
import type { Ticket } from '../../src/core/ticket.ts';
import { createFollower, type FollowView } from '../../src/feedback/follower.ts';
import { fakeClusterView } from '../support/fake-cluster-view.ts';
import { manualClock } from '../support/manual-clock.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const ticket = (seq: number, commit: string): Ticket => ({ seq, acceptedAt: 1000, cause: { provider: 'github', commit, deliveryId: `d-${seq}` } });
const ready = (status: 'True' | 'False', message = '') => [{ type: 'Ready', status, reason: status === 'True' ? 'ReconciliationSucceeded' : 'BuildFailed', message }];

function setup(maxFollowed = 100) {
  const view = fakeClusterView();
  const clock = manualClock(10_000);
  const seen: FollowView[] = [];
  const follower = createFollower({ views: new Map([[undefined, view]]), clock, timeoutMs: 60_000, maxFollowed, reporter: { changed: (change) => seen.push(change), following() {} } });
  const kustomization = (name: string, status: unknown) => view.put({ kind: 'Kustomization', metadata: { name, namespace: 'flux-system' }, spec: { sourceRef: { kind: 'GitRepository', name: 'app' } }, status });
  const patch = (name: string, tickets: Ticket[], value = 'v1') => follower.patched(undefined, { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace: 'flux-system', name, tickets, value, endedAt: clock.now() });
  return { view, clock, seen, follower, kustomization, patch };
}

describe('follower', () => {
  test('a patch that folded two commits follows the newest; the older is superseded at once', () => {
    const { seen, kustomization, patch } = setup();
    kustomization('apps', {});
    patch('apps', [ticket(1, A), ticket(2, B)]);
    expect(seen.map((view) => [view.commit, view.stage, view.final ?? false, view.detail])).toEqual([
      [A, 'superseded', true, `superseded by ${B.slice(0, 12)} before it was followed`],
      [B, 'following', false, undefined],
    ]);
  });

  test('a failure is not final: the controller’s retry that applies the commit turns it to applied', () => {
    const { seen, follower, kustomization, patch } = setup();
    kustomization('apps', {});
    patch('apps', [ticket(1, A)]);
    follower.changed(undefined, kustomization('apps', { lastAttemptedRevision: `main@sha1:${A}`, conditions: ready('False', 'kustomize build failed') }));
    follower.changed(undefined, kustomization('apps', { lastAttemptedRevision: `main@sha1:${A}`, lastAppliedRevision: `main@sha1:${A}`, conditions: ready('True') }));
    expect(seen.map((view) => [view.stage, view.final ?? false, view.detail])).toEqual([
      ['following', false, undefined],
      ['failed', false, 'BuildFailed: kustomize build failed'],
      ['applied', true, undefined],
    ]);
  });

  test('an object in a namespace not watched is recorded as not followed, with why', () => {
    const { view, seen, patch } = setup();
    view.unwatchedNamespaces.add('flux-system');
    patch('apps', [ticket(1, A)]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ stage: 'not-followed', final: true, detail: 'namespace flux-system is not watched (feedback.namespaces)' });
  });

  test('beyond maxFollowed the oldest follow ends, so what is held stays bounded', () => {
    const { seen, follower, kustomization, patch } = setup(2);
    for (const name of ['one', 'two', 'three']) {
      kustomization(name, {});
      patch(name, [ticket(1, A)]);
    }
    expect(follower.size()).toBe(2);
    const ended = seen.filter((view) => view.final);
    expect(ended.map((view) => [view.name, view.stage])).toEqual([['one', 'not-followed']]);
    expect(ended[0]!.detail).toContain('feedback.maxFollowed');
  });

  test('nothing happening: timed out at the timeout, not before', async () => {
    const { seen, clock, kustomization, patch } = setup();
    kustomization('apps', {});
    patch('apps', [ticket(1, A)]);
    await clock.advance(59_999);
    expect(seen.some((view) => view.final)).toBe(false);
    await clock.advance(1);
    expect(seen.at(-1)).toMatchObject({ stage: 'timed-out', final: true, detail: 'not applied within 60 s (last following)' });
  });
});
