import { describe, expect, test } from 'bun:test';
import { createMetrics } from '../../src/observe/metrics.ts';
import { Counter, Histogram, Registry } from '../../src/observe/metrics-registry.ts';

describe('Prometheus exposition', () => {
  test('counters with labels, escaped label values, HELP and TYPE lines', () => {
    const registry = new Registry();
    const counter = registry.register(new Counter('demo_total', 'A demo.', ['name']));
    counter.inc(['a"b\\c\nd']);
    counter.inc(['plain'], 2);
    expect(registry.render()).toBe('# HELP demo_total A demo.\n# TYPE demo_total counter\ndemo_total{name="a\\"b\\\\c\\nd"} 1\ndemo_total{name="plain"} 2\n');
  });

  test('histogram buckets are cumulative and end with +Inf, sum and count', () => {
    const histogram = new Histogram('demo_seconds', 'Demo.', [], [0.1, 1]);
    for (const value of [0.05, 0.5, 0.7, 3]) histogram.observe(value);
    const lines = histogram.render().split('\n');
    expect(lines).toContain('demo_seconds_bucket{le="0.1"} 1');
    expect(lines).toContain('demo_seconds_bucket{le="1"} 3');
    expect(lines).toContain('demo_seconds_bucket{le="+Inf"} 4');
    expect(lines).toContain('demo_seconds_sum 4.25');
    expect(lines).toContain('demo_seconds_count 4');
  });

  test('a wrong number of labels is a programming error, not a silent series', () => {
    const counter = new Counter('demo_total', 'A demo.', ['a', 'b']);
    expect(() => counter.inc(['only-one'])).toThrow('demo_total takes labels a, b');
  });

  test('fluxgate exports every metric of the spec, unlabelled ones as 0 from the start, and true process metrics', () => {
    const text = createMetrics('1.2.3', 1_700_000_000).registry.render();
    for (const name of [
      'fluxgate_webhook_requests_total',
      'fluxgate_webhook_request_duration_seconds',
      'fluxgate_reconcile_requests_total',
      'fluxgate_reconcile_retries_total',
      'fluxgate_reconcile_latency_seconds',
      'fluxgate_debounce_coalesced_total',
      'fluxgate_reconcile_pending',
      'fluxgate_build_info',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('fluxgate_build_info{version="1.2.3"} 1');
    expect(text).toContain('\nfluxgate_debounce_coalesced_total 0\n');
    expect(text).toContain('\nfluxgate_reconcile_pending 0\n');
    expect(text).toContain('fluxgate_reconcile_latency_seconds_count 0');
    expect(text).toContain('process_start_time_seconds 1700000000');
    expect(text).toMatch(/\nprocess_resident_memory_bytes [1-9][0-9]+\n/);
    expect(text).not.toContain('nodejs_');
  });
});
