/**
 * deploy/monitoring: the PrometheusRule passes promtool's checks and unit tests, and the dashboard and the alerts
 * query only what fluxgate exports (read from /metrics after real traffic, not from a list kept here).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { renderKustomization } from '../support/kubectl.ts';
import { runMetricsTraffic, type MetricsTraffic } from '../support/metrics-traffic.ts';
import { promtool } from '../support/promtool.ts';
import { tempDir } from '../support/temp-dir.ts';

// Starts a gateway, a fake API server and external tools (promtool, kustomize): slower than bun's 5 s on a busy machine.
setDefaultTimeout(30_000);

const monitoring = join(import.meta.dir, '..', '..', 'deploy', 'monitoring');
const rule = parse(readFileSync(join(monitoring, 'prometheusrule.yaml'), 'utf8'));
const dashboard = JSON.parse(readFileSync(join(monitoring, 'grafana-dashboard.json'), 'utf8'));

/** Labels Prometheus adds to every scraped series (target labels), which /metrics itself never shows. */
const targetLabels = new Set(['instance', 'job', 'namespace', 'pod', 'service', 'endpoint', 'container']);
const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'Inf', 'NaN']);

/** The metric names a PromQL expression selects, and the label names it groups by or matches on. */
function queried(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_, matchers: string) => {
    for (const match of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(match[1]!);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  rest = rest.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, names: string) => {
    labels.push(...names.split(',').map((name) => name.trim()).filter(Boolean));
    return ' ';
  });
  const metrics = [...rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)].filter((match) => !match[2] && !keywords.has(match[1]!)).map((match) => match[1]!);
  return { metrics: [...new Set(metrics)], labels: [...new Set(labels)] };
}

/** Series names in Prometheus text, with the label names seen on each. */
function exported(text: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /);
    if (!match) continue;
    const names = series.get(match[1]!) ?? new Set<string>();
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) names.add(label[1]!);
    series.set(match[1]!, names);
  }
  return series;
}

/** Problems with one expression against /metrics: an unknown metric, or a label none of its metrics has. */
function problems(expr: string, series: Map<string, Set<string>>, allowed: readonly string[] = []): string[] {
  const { metrics, labels } = queried(expr);
  const found: string[] = [];
  if (metrics.length === 0) found.push(`${expr}: selects no metric`);
  for (const name of metrics) if (!series.has(name) && !allowed.includes(name)) found.push(`${expr}: ${name} is not in /metrics`);
  const known = new Set(metrics.flatMap((name) => [...(series.get(name) ?? [])]));
  for (const label of labels) if (!known.has(label) && !targetLabels.has(label) && label !== 'le') found.push(`${expr}: no metric has label ${label}`);
  return found;
}

test('the metric-name reader finds metrics and labels, not functions, keywords or ranges', () => {
  expect(queried('histogram_quantile(0.99, sum by (le, provider) (rate(a_bucket{instance=~"$instance"}[$__rate_interval])))')).toEqual({
    metrics: ['a_bucket'],
    labels: ['instance', 'le', 'provider'],
  });
  expect(queried('sum(increase(b_total{reason=~"x|y"}[10m])) >= 3 and on (pod) c == 0')).toEqual({ metrics: ['b_total', 'c'], labels: ['reason', 'pod'] });
});

describe('PrometheusRule', () => {
  test('is a PrometheusRule whose spec promtool check rules accepts', () => {
    expect(rule).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    const dir = tempDir();
    writeFileSync(join(dir.path, 'rules.yaml'), stringify(rule.spec));
    const result = promtool(['check', 'rules', join(dir.path, 'rules.yaml')]);
    dir.remove();
    expect(result.output).toContain('SUCCESS: 6 rules found');
    expect(result.code).toBe(0);
  });

  test('alerts for reconcile failures, exhausted retries, an unwritable store, bad signatures and an unreachable API server', () => {
    const alerts = rule.spec.groups.flatMap((group: { rules: { alert?: string }[] }) => group.rules.map((entry) => entry.alert));
    expect(alerts).toEqual(['FluxgateReconcileFailures', 'FluxgateRetriesExhausted', 'FluxgateStoreUnwritable', 'FluxgateWebhookSignatureRejected', 'FluxgateKubernetesApiUnreachable', 'FluxgateDown']);
  });

  test('promtool test rules: each alert fires on the series that mean it, and not before or after', () => {
    const dir = tempDir();
    writeFileSync(join(dir.path, 'rules.yaml'), stringify(rule.spec));
    copyFileSync(join(import.meta.dir, 'prometheusrule.promtool-test.yaml'), join(dir.path, 'alerts-test.yaml'));
    const result = promtool(['test', 'rules', join(dir.path, 'alerts-test.yaml')]);
    dir.remove();
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });
});

describe('kustomization', () => {
  test('kubectl kustomize deploy/monitoring renders the ServiceMonitor, the rule and the dashboard as it is, with no namespace', () => {
    const objects = renderKustomization(monitoring);
    expect(objects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'PrometheusRule', 'ServiceMonitor']);
    for (const object of objects) expect({ kind: object.kind, namespace: object.metadata.namespace }).toEqual({ kind: object.kind, namespace: undefined });
    const configMap = objects.find((object) => object.kind === 'ConfigMap');
    expect(configMap.metadata).toMatchObject({ name: 'fluxgate-dashboard', labels: { grafana_dashboard: '1' } });
    expect(JSON.parse(configMap.data['grafana-dashboard.json'])).toEqual(dashboard);
    expect(objects.find((object) => object.kind === 'PrometheusRule')).toEqual(rule);
  });
});

describe('against /metrics after real traffic', () => {
  let traffic: MetricsTraffic;
  let series: Map<string, Set<string>>;
  beforeAll(async () => {
    traffic = await runMetricsTraffic();
    series = exported(traffic.metrics);
  });
  afterAll(() => traffic?.stop());

  test('the dashboard shows deliveries by outcome, latency p50/p99, retries, pending and coalesced', () => {
    const exprs: string[] = dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) => panel.targets.map((target) => target.expr));
    const all = exprs.join('\n');
    expect(all).toContain('sum by (outcome) (rate(fluxgate_webhook_requests_total');
    expect(all).toContain('histogram_quantile(0.5, sum by (le) (rate(fluxgate_reconcile_latency_seconds_bucket');
    expect(all).toContain('histogram_quantile(0.99, sum by (le) (rate(fluxgate_reconcile_latency_seconds_bucket');
    for (const name of ['fluxgate_reconcile_retries_total', 'fluxgate_reconcile_pending', 'fluxgate_debounce_coalesced_total']) expect(all).toContain(name);
  });

  test('every dashboard query and variable selects metrics and labels that /metrics has', () => {
    const exprs: string[] = dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) => panel.targets.map((target) => target.expr));
    const variables: string[] = dashboard.templating.list.filter((variable: { type: string }) => variable.type === 'query').map((variable: { definition: string }) => variable.definition);
    expect(exprs.length).toBeGreaterThan(8);
    const found = [...exprs.flatMap((expr) => problems(expr, series)), ...variables.flatMap((definition) => problems(definition.replace(/^label_values\((.*),\s*\w+\)$/, '$1'), series))];
    expect(found).toEqual([]);
  });

  test('every alert selects metrics that /metrics has (and `up`, which Prometheus records)', () => {
    const exprs: string[] = rule.spec.groups.flatMap((group: { rules: { expr: string }[] }) => group.rules.map((entry) => entry.expr));
    const found = exprs.flatMap((expr) => (expr.startsWith('up{') ? problems(expr, series, ['up']) : problems(expr, series)));
    expect(found).toEqual([]);
  });
});
