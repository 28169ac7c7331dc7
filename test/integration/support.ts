/**
 * Shared helpers for the integration tests against a real kube-apiserver (test/support/kube-apiserver):
 * gateway configs, namespaces per test, bounded polling, and metric/log lookups.
 */
import type { Clock } from '../../src/core/clock.ts';
import { expect } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import type { TestCluster } from '../support/kube-apiserver/cluster.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { githubWebhook, post } from '../support/webhooks.ts';

export const GITHUB_SECRET = 'gh-integration-secret-5d2e';
export const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';
export const ARGO_REFRESH = 'argocd.argoproj.io/refresh';
/** RFC 3339, UTC, exactly 9 fractional digits. */
export const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

export const GIT_REPOSITORY = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', plural: 'gitrepositories' } as const;
export const KUSTOMIZATION = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', plural: 'kustomizations' } as const;
export const APPLICATION = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', plural: 'applications' } as const;

/** Creates a fresh namespace (one per test keeps tests independent on a shared cluster) and returns its name. */
export async function freshNamespace(cluster: TestCluster, prefix = 't'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

/** Creates `manifests` a few at a time (the API server is local; 200 sequential POSTs are needlessly slow). */
export async function applyAll(cluster: TestCluster, manifests: any[], parallel = 16): Promise<void> {
  for (let i = 0; i < manifests.length; i += parallel) await Promise.all(manifests.slice(i, i + parallel).map((m) => cluster.apply(m)));
}

export function gitRepository(namespace: string, name: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: GIT_REPOSITORY.apiVersion,
    kind: GIT_REPOSITORY.kind,
    metadata: { name, namespace, ...(extra.labels ? { labels: extra.labels } : {}), ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { url: `https://example.invalid/${name}.git`, interval: '10m', ref: { branch: 'main' } },
  };
}

export function kustomization(namespace: string, name: string, labels?: Record<string, string>) {
  return {
    apiVersion: KUSTOMIZATION.apiVersion,
    kind: KUSTOMIZATION.kind,
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    spec: { interval: '10m', path: './deploy', prune: true, sourceRef: { kind: 'GitRepository', name: 'app' } },
  };
}

export interface ResourceEntry {
  kind: string;
  namespace: string;
  name?: string;
  matchLabels?: Record<string, string>;
  apiVersion?: string;
  annotation?: string;
}

/**
 * A fluxgate config: one github provider, one target matching your-org/your-repo@main with `resources`.
 * `kubeconfig` is a path (absolute, or relative to the config dir when passed as a gateway file).
 */
export function gatewayConfig(options: {
  kubeconfig: string;
  resources: ResourceEntry[];
  debounce?: string;
  concurrency?: number;
  requestTimeout?: string;
  retry?: { maxAttempts?: number; initialDelay?: string; maxDelay?: string };
}): string {
  return toYaml({
    server: { address: '127.0.0.1:0', shutdownTimeout: '3s' },
    kubernetes: { mode: 'kubeconfig', kubeconfig: options.kubeconfig, requestTimeout: options.requestTimeout ?? '5s' },
    reconcile: {
      debounce: options.debounce ?? '100ms',
      concurrency: options.concurrency ?? 8,
      retry: { maxAttempts: 8, initialDelay: '100ms', maxDelay: '1s', ...options.retry },
    },
    providers: [{ name: 'github', type: 'github', secret: { env: 'GITHUB_WEBHOOK_SECRET' } }],
    targets: [{ name: 'app', providers: ['github'], match: { repository: 'your-org/your-repo', branches: ['main'] }, resources: options.resources }],
  });
}

/** Starts a gateway from a config built by gatewayConfig (plus extra files, e.g. a kubeconfig); `clock` drives its windows and backoffs. */
export function startGateway(config: string, files?: Record<string, string>, clock?: Clock): Promise<TestGateway> {
  return startTestGateway({ config, env: { GITHUB_WEBHOOK_SECRET: GITHUB_SECRET }, files, clock });
}

/** Sends one signed GitHub push for your-org/your-repo@main and expects it accepted (202). */
export async function push(gateway: TestGateway, targets = 1): Promise<void> {
  const response = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET));
  const body = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status: 202, body: { targets } });
}

/**
 * Polls `probe` until it returns something other than undefined/false and returns it; fails with `what` (and
 * the last value seen, via `describe`) after `timeoutMs`. For state on a real server, polling is the only way
 * to wait: the patches run after the 202.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) {
      const detail = options.describe ? `\n${await options.describe()}` : '';
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for: ${what}${detail}`);
    }
    await Bun.sleep(options.intervalMs ?? 25);
  }
}

export async function metricsText(gateway: TestGateway): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text();
}

/** Value of one series (exact label text, e.g. `{kind="GitRepository",outcome="success"}`), 0 when absent. */
export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Every series of `name` as `labels value` lines, for failure messages and exact comparisons. */
export function series(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => l.slice(name.length))
    .sort();
}

/** Waits until reconcile_requests_total{kind,outcome} reaches `count` (and returns the metrics text). */
export async function outcomeReaches(gateway: TestGateway, kind: string, outcome: string, count: number, timeoutMs = 15_000): Promise<string> {
  let text = '';
  await eventually(
    `fluxgate_reconcile_requests_total{kind="${kind}",outcome="${outcome}"} ${count}`,
    async () => {
      text = await metricsText(gateway);
      return metricValue(text, 'fluxgate_reconcile_requests_total', `{kind="${kind}",outcome="${outcome}"}`) >= count;
    },
    { timeoutMs, describe: () => [...series(text, 'fluxgate_reconcile_requests_total'), ...series(text, 'fluxgate_reconcile_retries_total')].join('\n') },
  );
  return text;
}

/** The annotations of an object on the API server ({} when it has none; throws when the object is missing). */
export async function annotationsOf(cluster: TestCluster, type: { apiVersion: string; plural: string }, namespace: string, name: string): Promise<Record<string, string>> {
  const object = await cluster.get(type.apiVersion, type.plural, namespace, name);
  if (!object) throw new Error(`${type.plural} ${namespace}/${name} does not exist`);
  return object.metadata.annotations ?? {};
}
