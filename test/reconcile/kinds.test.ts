import { describe, expect, test } from 'bun:test';
import {
  ARGO_REFRESH_ANNOTATION,
  REQUESTED_AT_ANNOTATION,
  annotationFor,
  createRequestedAtClock,
  defaultApiVersion,
  requestedAtValue,
} from '../../src/reconcile/kinds.ts';

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
  const now = new Date('2026-11-25T10:11:12.123Z');

  test('Flux kinds get requestedAt with a timestamp', () => {
    const a = annotationFor('GitRepository');
    expect(a.key).toBe(REQUESTED_AT_ANNOTATION);
    expect(a.key).toBe('reconcile.fluxcd.io/requestedAt');
    expect(a.value(now)).toMatch(RFC3339_NANO_UTC);
    expect(a.value(now).startsWith('2026-11-25T10:11:12.123')).toBe(true);
  });

  test('Argo CD Application gets refresh: normal', () => {
    const a = annotationFor('Application');
    expect(a.key).toBe(ARGO_REFRESH_ANNOTATION);
    expect(a.key).toBe('argocd.argoproj.io/refresh');
    expect(a.value(now)).toBe('normal');
  });

  test('a configured annotation wins, with the requestedAt timestamp as value', () => {
    const a = annotationFor('Widget', 'example.com/poke');
    expect(a.key).toBe('example.com/poke');
    expect(a.value(now)).toMatch(RFC3339_NANO_UTC);
    expect(annotationFor('Application', 'example.com/poke').value(now)).toMatch(RFC3339_NANO_UTC);
    expect(annotationFor('Widget', ARGO_REFRESH_ANNOTATION).value(now)).toBe('normal');
  });

  test('an empty configured annotation means the default', () => {
    expect(annotationFor('Kustomization', '').key).toBe(REQUESTED_AT_ANNOTATION);
  });
});

describe('requestedAtValue', () => {
  test('RFC 3339 UTC with nanoseconds, the millisecond taken from the given time', () => {
    const v = requestedAtValue(new Date('2026-11-25T10:11:12.123Z'));
    expect(v).toMatch(RFC3339_NANO_UTC);
    expect(v.slice(0, 23)).toBe('2026-11-25T10:11:12.123');
    expect(Date.parse(v)).toBe(Date.parse('2026-11-25T10:11:12.123Z'));
  });

  test('successive values for the same millisecond differ and increase', () => {
    const now = new Date('2026-01-02T03:04:05.006Z');
    const values = Array.from({ length: 2000 }, () => requestedAtValue(now));
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
    expect(() => requestedAtValue(new Date('nope'))).toThrow(RangeError);
  });
});

describe('requestedAtValue clock steps', () => {
  test('a wall clock that steps back still yields later values', () => {
    const clock = createRequestedAtClock(() => 42n);
    const a = clock(new Date('2026-01-02T03:04:05.010Z'));
    const b = clock(new Date('2026-01-02T03:04:05.002Z'));
    expect(a).toBe('2026-01-02T03:04:05.010000042Z');
    expect(b).toBe('2026-01-02T03:04:05.010000043Z');
  });
});
