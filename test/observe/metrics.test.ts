import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetrics } from '../../src/observe/metrics.ts';
import { runMetricsTraffic, type MetricsTraffic } from '../support/metrics-traffic.ts';
import { promtool } from '../support/promtool.ts';

// Starts a gateway, a fake API server and external tools (promtool, kustomize): slower than bun's 5 s on a busy machine.
setDefaultTimeout(30_000);

/** Sample lines of one metric family (`name`, `name_bucket`, …) in Prometheus text. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('the exported metrics', () => {
  test('unlabelled ones are 0 from the start, build info carries the version (and its commit), process metrics are true', async () => {
    const { body, contentType } = await createMetrics('1.2.3+0123abc', 1_700_000_000).scrape();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(body).toContain('fluxgate_build_info{version="1.2.3+0123abc"} 1\n');
    expect(body).toContain('\nfluxgate_debounce_coalesced_total 0\n');
    expect(body).toContain('\nfluxgate_reconcile_pending 0\n');
    expect(body).toContain('\nfluxgate_reconcile_latency_seconds_count 0\n');
    expect(body).toContain('\nprocess_start_time_seconds 1700000000\n');
    expect(body).toMatch(/\nprocess_resident_memory_bytes [1-9][0-9]+\n/);
    expect(body).toMatch(/\nprocess_cpu_seconds_total [0-9.e-]+\n/);
    // prom-client's Node defaults (GC, heap spaces, event-loop lag) are wrong under Bun and stay out.
    expect(body).not.toContain('nodejs_');
  });

  test('each gateway owns its metrics: two sets count apart and neither lands in a global registry', async () => {
    const one = createMetrics('1');
    const two = createMetrics('1');
    one.debounceCoalesced.inc();
    one.gaugeOf('fluxgate_test_gauge', 'A gauge read at scrape time.', () => 42);
    expect((await one.scrape()).body).toContain('\nfluxgate_debounce_coalesced_total 1\n');
    expect((await one.scrape()).body).toContain('\nfluxgate_test_gauge 42\n');
    expect((await two.scrape()).body).toContain('\nfluxgate_debounce_coalesced_total 0\n');
    expect((await two.scrape()).body).not.toContain('fluxgate_test_gauge');
    const { register } = await import('prom-client');
    expect(await register.metrics()).not.toContain('fluxgate_');
  });
});

describe('/metrics after real traffic', () => {
  let traffic: MetricsTraffic;
  beforeAll(async () => {
    traffic = await runMetricsTraffic();
  });
  afterAll(() => traffic?.stop());

  test('the traffic was what it says: accepted, duplicate, unauthorized, ignored', () => {
    expect(traffic.statuses).toEqual([202, 202, 202, 200, 401, 200]);
    expect(traffic.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  test('promtool check metrics finds nothing to report', () => {
    expect(promtool(['check', 'metrics'], traffic.metrics)).toEqual({ code: 0, output: '' });
  });

  test('every metric the README lists is exported with samples', () => {
    const readme = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Metrics\n'), readme.indexOf('\n## ', readme.indexOf('\n## Metrics\n') + 1));
    // Discovery's metrics have samples only while discovery watches, following's labelled ones only once something
    // was followed (their own tests read them: test/integration/feedback-real-apiserver.test.ts).
    const following = ['fluxgate_push_to_', 'fluxgate_feedback_follows_total', 'fluxgate_commit_statuses_total'];
    const names = [...new Set(section.match(/\b(?:fluxgate|process)_[a-z_]+[a-z]/g))].filter((name) => !name.startsWith('fluxgate_discovery_') && !following.some((prefix) => name.startsWith(prefix)));
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) {
      const family = samples(traffic.metrics, name).length > 0 ? name : `${name}_count`;
      expect({ name, exported: samples(traffic.metrics, family).length > 0 }).toEqual({ name, exported: true });
    }
  });

  test('counts follow the traffic, with the labels the README names and nothing from the payload or the secret', () => {
    const text = traffic.metrics;
    const webhook = (event: string, outcome: string) => `fluxgate_webhook_requests_total{provider="github",type="github",event="${event}",outcome="${outcome}"}`;
    expect(text).toContain(`${webhook('push', 'accepted')} 3\n`);
    expect(text).toContain(`${webhook('push', 'duplicate')} 1\n`);
    expect(text).toContain(`${webhook('push', 'unauthorized')} 1\n`);
    // The provider keeps a previousSecret: its counter is there from the start, and no delivery used it.
    expect(text).toContain('fluxgate_webhook_verified_with_previous_secret_total{provider="github",type="github"} 0\n');
    expect(text).toContain(`${webhook('ping', 'ignored')} 1\n`);
    expect(text).toContain('fluxgate_webhook_request_duration_seconds_count{provider="github"} 6\n');
    expect(text).toContain('fluxgate_reconcile_requests_total{kind="GitRepository",outcome="not_found"} 2\n');
    expect(text).toContain('fluxgate_reconcile_requests_total{kind="GitRepository",outcome="failed"} 1\n');
    expect(text).toContain('fluxgate_reconcile_retries_total{kind="GitRepository",reason="server_error"} 1\n');
    expect(text).toContain('fluxgate_reconcile_retries_total{kind="GitRepository",reason="connection"} 1\n');
    expect(text).toContain('fluxgate_reconcile_retries_exhausted_total{kind="GitRepository"} 1\n');
    expect(text).toMatch(/\nfluxgate_reconcile_requests_total\{kind="GitRepository",outcome="success"\} [1-9]\n/);
    expect(text).toMatch(/\nfluxgate_reconcile_latency_seconds_count [1-9]\n/);
    expect(text).toMatch(/\nfluxgate_debounce_coalesced_total [1-9]\n/);
    expect(text).toContain('\nfluxgate_reconcile_pending 0\n');
    for (const leak of ['metrics-traffic-secret', 'your-org', 'flaky', 'gone', 'flux-system', 'refs/heads']) expect(text).not.toContain(leak);
  });
});
