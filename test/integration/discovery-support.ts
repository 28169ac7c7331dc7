/**
 * Helpers for the discovery tests against a real kube-apiserver: a config with providers and `discovery` (and no
 * targets), GitRepositories in every URL form, pushes for a repository of the test's own, and the deliveries log.
 */
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import type { TestGateway } from '../support/gateway.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { GITHUB_SECRET } from './support.ts';

export const SOURCE_V1 = 'source.toolkit.fluxcd.io/v1';

/** A repository name no other test uses (the watch is cluster-wide). */
export function freshRepository(): string {
  return `disc-${randomBytes(4).toString('hex')}`;
}

/** Spellings of `github.com/your-org/<repo>` a GitRepository may use: https, .git, case, ssh, scp, ssh port, trailing slash. */
export function urlForms(repo: string): string[] {
  return [
    `https://github.com/your-org/${repo}`,
    `https://github.com/Your-Org/${repo}.git`,
    `ssh://git@github.com/your-org/${repo}.git`,
    `git@github.com:your-org/${repo}.git`,
    `ssh://git@ssh.github.com:443/your-org/${repo}`,
    `https://GitHub.com/your-org/${repo}/`,
  ];
}

export function gitRepositoryAt(namespace: string, name: string, url: string, ref?: Record<string, string>, extra: { suspend?: boolean; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: SOURCE_V1,
    kind: 'GitRepository',
    metadata: { name, namespace, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { url, interval: '10m', ...(ref ? { ref } : {}), ...(extra.suspend ? { suspend: true } : {}) },
  };
}

/** A config with one github provider and discovery on; no targets unless given. `clusters` replaces `kubernetes`. */
export function discoveryConfig(options: {
  kubeconfig?: string;
  clusters?: { name: string; kubeconfig: string }[];
  discovery?: Record<string, unknown>;
  retry?: { maxAttempts?: number; initialDelay?: string; maxDelay?: string };
  targets?: unknown[];
}): string {
  return toYaml({
    server: { address: '127.0.0.1:0', shutdownTimeout: '3s' },
    kubernetes: { ...(options.kubeconfig ? { mode: 'kubeconfig', kubeconfig: options.kubeconfig } : {}), requestTimeout: '5s' },
    reconcile: { debounce: '100ms', concurrency: 16, retry: { maxAttempts: 8, initialDelay: '100ms', maxDelay: '1s', ...options.retry } },
    providers: [{ name: 'github', type: 'github', secret: { env: 'GITHUB_WEBHOOK_SECRET' } }],
    discovery: { enabled: true, ...options.discovery },
    ...(options.clusters ? { clusters: options.clusters } : {}),
    ...(options.targets ? { targets: options.targets } : {}),
  });
}

/** A signed GitHub push of `your-org/<repo>`; the answer's status and body. */
export async function pushTo(gateway: TestGateway, repo: string, ref: { branch?: string; tag?: string } = { branch: 'main' }): Promise<{ status: number; body: any }> {
  const response = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET, { repository: `your-org/${repo}`, ...ref }));
  return { status: response.status, body: await response.json() };
}

export interface RecordedDelivery {
  ticket?: number;
  outcome: string;
  reason?: string;
  objects: { object: string; cluster?: string; state: string; detail?: string; rule?: string }[];
  nearMisses?: string[];
}

export async function deliveries(gateway: TestGateway): Promise<RecordedDelivery[]> {
  return ((await (await fetch(`${gateway.adminUrl}/api/deliveries`)).json()) as { deliveries: RecordedDelivery[] }).deliveries;
}

export async function readyz(gateway: TestGateway): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gateway.adminUrl}/readyz`);
  return { status: response.status, body: await response.json() };
}
