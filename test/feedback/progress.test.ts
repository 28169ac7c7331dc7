/**
 * How far a commit got, read from the statuses the controllers write (Flux's and Argo CD's documented fields): the
 * revision spellings that name a commit, and each role's reading — a source, what applies it (a HelmRelease's chart
 * version built from Git included), an Argo CD Application, any other kind.
 */
import { describe, expect, test } from 'bun:test';
import { statusOf } from '../../src/feedback/object-status.ts';
import { readProgress } from '../../src/feedback/progress.ts';
import { namesCommit } from '../../src/feedback/revision.ts';

const SHA = '5c1f9e0a1b2c3d4e5f60718293a4b5c6d7e8f901';
const OTHER = '0123456789abcdef0123456789abcdef01234567';
const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const object = (kind: string, spec: unknown, status: unknown) => statusOf({ apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'flux-system' }, spec, status } as Parameters<typeof statusOf>[0]);
const ready = (status: 'True' | 'False', reason = 'Succeeded', message = '') => [{ type: 'Ready', status, reason, message }];

describe('namesCommit', () => {
  test.each([
    [`main@sha1:${SHA}`, SHA, true],
    [`main/${SHA}`, SHA, true], // Flux before v2.1
    [`1.2.3+${SHA.slice(0, 12)}`, SHA, true], // a chart rebuilt per revision
    [SHA, SHA.slice(0, 7), true], // an event with a short sha
    [`latest@${DIGEST}`, DIGEST, true],
    [`main@sha1:${OTHER}`, SHA, false],
    [`1.2.3`, SHA, false],
    ['main@sha1:5c1f9e0', `sha1:${SHA.slice(0, 6)}`, false], // under 7 characters is no hash: compared whole
  ])('%s names %s: %s', (revision, commit, expected) => {
    expect(namesCommit(revision, commit)).toBe(expected);
  });
});

describe('readProgress', () => {
  test('a source: handled when it echoes the value written, fetched when its artifact names the commit, failed when handled and not Ready', () => {
    const wanted = { commit: SHA, values: ['2026-12-07T12:00:00.000000001Z'] };
    expect(readProgress('source', object('GitRepository', {}, { lastHandledReconcileAt: 'older', artifact: { revision: `main@sha1:${OTHER}` } }), wanted)).toEqual({ stage: 'following', revision: `main@sha1:${OTHER}` });
    expect(readProgress('source', object('GitRepository', {}, { lastHandledReconcileAt: wanted.values[0] }), wanted)).toEqual({ stage: 'handled' });
    expect(readProgress('source', object('GitRepository', {}, { lastHandledReconcileAt: wanted.values[0], conditions: ready('False', 'GitOperationFailed', 'authentication required') }), wanted)).toEqual({ stage: 'failed', detail: 'GitOperationFailed: authentication required' });
    expect(readProgress('source', object('OCIRepository', {}, { artifact: { revision: `latest@${DIGEST}` } }), { commit: DIGEST, values: [] })).toEqual({ stage: 'fetched', revision: `latest@${DIGEST}` });
  });

  test('a HelmRelease whose chart is rebuilt from Git per revision: applied when its release carries the commit and it is Ready', () => {
    const spec = { chart: { spec: { chart: './charts/app', reconcileStrategy: 'Revision', sourceRef: { kind: 'GitRepository', name: 'app' } } } };
    const release = object('HelmRelease', spec, { history: [{ chartVersion: `0.4.1+${SHA.slice(0, 12)}` }], conditions: ready('True', 'InstallSucceeded') });
    expect(release.source).toBe('GitRepository/flux-system/app');
    expect(readProgress('applier', release, { commit: SHA, values: [] })).toMatchObject({ stage: 'applied', revision: `0.4.1+${SHA.slice(0, 12)}` });
    // Without reconcileStrategy: Revision the chart version never names a commit: not a user of the source.
    expect(object('HelmRelease', { chart: { spec: { sourceRef: { kind: 'GitRepository', name: 'app' } } } }, {}).source).toBeUndefined();
  });

  test('a Kustomization Ready for an older revision is not applied; Ready False for the commit is failed', () => {
    const wanted = { commit: SHA, values: [] };
    expect(readProgress('applier', object('Kustomization', {}, { lastAppliedRevision: `main@sha1:${OTHER}`, lastAttemptedRevision: `main@sha1:${OTHER}`, conditions: ready('True') }), wanted).stage).toBe('following');
    expect(readProgress('applier', object('Kustomization', {}, { lastAppliedRevision: `main@sha1:${OTHER}`, lastAttemptedRevision: `main@sha1:${SHA}`, conditions: ready('False', 'HealthCheckFailed', 'timeout waiting for: [Deployment/apps/web status: InProgress]') }), wanted)).toEqual({
      stage: 'failed',
      revision: `main@sha1:${SHA}`,
      detail: 'HealthCheckFailed: timeout waiting for: [Deployment/apps/web status: InProgress]',
    });
  });

  test('an Argo CD Application: a failed sync of the commit is failed, with its message and health', () => {
    const app = object('Application', {}, { sync: { status: 'OutOfSync', revision: OTHER }, health: { status: 'Degraded' }, operationState: { phase: 'Failed', message: 'one or more objects failed to apply', syncResult: { revision: SHA } } });
    expect(readProgress('application', app, { commit: SHA, values: [] })).toEqual({ stage: 'failed', revision: SHA, detail: 'Failed: one or more objects failed to apply', health: 'Degraded' });
  });

  test('any other kind: handled once it echoes the value written', () => {
    expect(readProgress('other', object('ConfigMap', {}, { lastHandledReconcileAt: 'v2' }), { commit: SHA, values: ['v1', 'v2'] })).toEqual({ stage: 'handled' });
    expect(readProgress('other', object('ConfigMap', {}, { lastHandledReconcileAt: 'v0' }), { commit: SHA, values: ['v1'] })).toEqual({ stage: 'following' });
  });
});
