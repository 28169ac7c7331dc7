import { describe, expect, test } from 'bun:test';
import { KubeError } from '../../src/kube/client.ts';
import { classifyFailure } from '../../src/reconcile/retry.ts';
import { backoffDelay } from '../../src/core/backoff.ts';

const base = { maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 30_000 };

describe('backoffDelay', () => {
  test.each([
    [1, 0, 125],
    [1, 0.999999, 250],
    [2, 0, 250],
    [3, 0.5, 750],
    [9, 0, 15_000],
    [20, 1, 30_000],
  ])('after %i failures with random %d → %i ms', (failures, random, expected) => {
    expect(backoffDelay({ ...base, random: () => random }, failures)).toBe(expected);
  });

  test('Retry-After is a floor, capped at five minutes', () => {
    const policy = { ...base, random: () => 0 };
    expect(backoffDelay(policy, 1, 7000)).toBe(7000);
    expect(backoffDelay(policy, 1, 10)).toBe(125);
    expect(backoffDelay(policy, 1, 3_600_000)).toBe(300_000);
  });
});

describe('classifyFailure', () => {
  test.each([
    [new KubeError('x', 'http', 429, 1000), { retry: true, reason: 'throttled', retryAfterMs: 1000 }],
    [new KubeError('x', 'http', 500), { retry: true, reason: 'server_error' }],
    [new KubeError('x', 'http', 503), { retry: true, reason: 'server_error' }],
    [new KubeError('x', 'timeout'), { retry: true, reason: 'timeout' }],
    [new KubeError('x', 'connection'), { retry: true, reason: 'connection' }],
    [new KubeError('x', 'http', 404), { retry: false, outcome: 'not_found' }],
    [new KubeError('x', 'http', 403), { retry: false, outcome: 'forbidden' }],
    [new KubeError('x', 'unauthorized', 401), { retry: false, outcome: 'unauthorized' }],
    [new KubeError('x', 'http', 422), { retry: false, outcome: 'failed' }],
    [new KubeError('x', 'tls'), { retry: false, outcome: 'failed' }],
    [new Error('bug'), { retry: false, outcome: 'failed' }],
  ])('%#', (error, expected) => {
    expect(classifyFailure(error)).toMatchObject(expected);
  });
});
