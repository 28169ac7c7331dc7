import { describe, expect, test } from 'bun:test';
import {
  ARGO_REFRESH_ANNOTATION,
  REQUESTED_AT_ANNOTATION,
  annotationFor,
  createRequestedAtClock,
  defaultApiVersion,
} from '../../src/core/kinds.ts';

const RFC3339_NANO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

describe('defaultApiVersion', () => {
  test.each([
    ['GitRepository', 'source.toolkit.fluxcd.io/v1'],
    ['OCIRepository', 'source.toolkit.fluxcd.io/v1'],
    ['Bucket', 'source.toolkit.fluxcd.io/v1'],
    ['HelmRepository', 'source.toolkit.fluxcd.io/v1'],
    ['HelmChart', 'source.toolkit.fluxcd.io/v1'],
    ['ExternalArtifact', 'source.toolkit.fluxcd.io/v1'],
    ['Kustomization', 'kustomize.toolkit.fluxcd.io/v1'],
    ['HelmRelease', 'helm.toolkit.fluxcd.io/v2'],
    ['ImageRepository', 'image.toolkit.fluxcd.io/v1'],
    ['ImagePolicy', 'image.toolkit.fluxcd.io/v1'],
    ['ImageUpdateAutomation', 'image.toolkit.fluxcd.io/v1'],
    ['Application', 'argoproj.io/v1alpha1'],
  ])('%s → %s', (kind, apiVersion) => {
    expect(defaultApiVersion(kind)).toBe(apiVersion);
  });

  test('unknown kinds and prototype names have none', () => {
    expect(defaultApiVersion('Deployment')).toBeUndefined();
    expect(defaultApiVersion('gitrepository')).toBeUndefined();
    expect(defaultApiVersion('toString')).toBeUndefined();
    expect(defaultApiVersion('__proto__')).toBeUndefined();
  });
});

describe('annotationFor', () => {
  test('Flux kinds get requestedAt, stamped per patch', () => {
    expect(annotationFor('GitRepository')).toEqual({ key: REQUESTED_AT_ANNOTATION });
    expect(REQUESTED_AT_ANNOTATION).toBe('reconcile.fluxcd.io/requestedAt');
  });

  test('Argo CD Application gets refresh: normal', () => {
    expect(annotationFor('Application')).toEqual({ key: ARGO_REFRESH_ANNOTATION, fixedValue: 'normal' });
    expect(ARGO_REFRESH_ANNOTATION).toBe('argocd.argoproj.io/refresh');
  });

  test('a configured annotation wins, stamped with a requestedAt token unless it is Argo CD refresh', () => {
    expect(annotationFor('Widget', 'example.com/poke')).toEqual({ key: 'example.com/poke' });
    expect(annotationFor('Application', 'example.com/poke')).toEqual({ key: 'example.com/poke' });
    expect(annotationFor('Widget', ARGO_REFRESH_ANNOTATION)).toEqual({ key: ARGO_REFRESH_ANNOTATION, fixedValue: 'normal' });
  });

  test('an empty configured annotation means the default', () => {
    expect(annotationFor('Kustomization', '').key).toBe(REQUESTED_AT_ANNOTATION);
  });
});

describe('createRequestedAtClock', () => {
  test('RFC 3339 UTC with nanoseconds, the millisecond taken from the given time', () => {
    const v = createRequestedAtClock()(new Date('2026-11-25T10:11:12.123Z'));
    expect(v).toMatch(RFC3339_NANO_UTC);
    expect(v.slice(0, 23)).toBe('2026-11-25T10:11:12.123');
    expect(Date.parse(v)).toBe(Date.parse('2026-11-25T10:11:12.123Z'));
  });

  test('each clock is its own: a clock that already stamped a later time does not affect another', () => {
    const busy = createRequestedAtClock();
    busy(new Date('2099-01-01T00:00:00.000Z'));
    expect(createRequestedAtClock()(new Date('2001-02-03T04:05:06.007Z')).slice(0, 23)).toBe('2001-02-03T04:05:06.007');
  });

  test('successive values for the same millisecond differ and increase', () => {
    const requestedAt = createRequestedAtClock();
    const now = new Date('2026-01-02T03:04:05.006Z');
    const values = Array.from({ length: 2000 }, () => requestedAt(now));
    expect(new Set(values).size).toBe(values.length);
    const sorted = [...values].sort();
    expect(sorted).toEqual(values);
  });

  test('uniqueness does not depend on the high-resolution clock moving', () => {
    const frozen = createRequestedAtClock(() => 5_000_123n);
    const now = new Date('2026-01-02T03:04:05.006Z');
    expect([frozen(now), frozen(now), frozen(now)]).toEqual([
      '2026-01-02T03:04:05.006000123Z',
      '2026-01-02T03:04:05.006000124Z',
      '2026-01-02T03:04:05.006000125Z',
    ]);
    expect(frozen(new Date('2026-01-02T03:04:05.007Z'))).toBe('2026-01-02T03:04:05.007000123Z');
  });

  test('a full millisecond of values borrows the next one rather than repeat', () => {
    const clock = createRequestedAtClock(() => 999_999n);
    const now = new Date('2026-01-02T03:04:05.006Z');
    expect(clock(now)).toBe('2026-01-02T03:04:05.006999999Z');
    expect(clock(now)).toBe('2026-01-02T03:04:05.007000000Z');
  });

  test('an invalid date is an error, not "NaN"', () => {
    expect(() => createRequestedAtClock()(new Date('nope'))).toThrow(RangeError);
  });

  test('a wall clock that steps back still yields later values', () => {
    const clock = createRequestedAtClock(() => 42n);
    const a = clock(new Date('2026-01-02T03:04:05.010Z'));
    const b = clock(new Date('2026-01-02T03:04:05.002Z'));
    expect(a).toBe('2026-01-02T03:04:05.010000042Z');
    expect(b).toBe('2026-01-02T03:04:05.010000043Z');
  });
});
