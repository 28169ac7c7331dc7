/**
 * A relay on loopback for the tests of src/relay/: an edge (dry-run: it reaches no cluster) and agents as real
 * processes, each agent with its own namespace of the real kube-apiserver, reached through the fault proxy so the
 * test counts every PATCH that arrived there.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { FaultProxy } from '../support/fault-proxy.ts';
import type { TestCluster } from '../support/kube-apiserver/cluster.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { applyAll, freshNamespace, gitRepository } from './support.ts';

export const RELAY_GITHUB_SECRET = 'relay-github-secret-3f8a';
/** The two repositories the tests push: agents' targets name both, subscribers' filters pick. */
export const REPO = 'your-org/your-repo';
export const OTHER_REPO = 'other-org/other-repo';

/** A port free now: the edge keeps its address across restarts, the agents' `upstream.url` names it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SubscriberSpec {
  name: string;
  token: string;
  repositories?: string[];
}

/** An edge that only relays: dry-run (no cluster), github hooks, the subscribers given. */
export function writeEdgeConfig(dir: string, options: { port: number; subscribers: readonly SubscriberSpec[]; relay?: Record<string, unknown>; state?: Record<string, unknown> }): string {
  const path = join(dir, 'edge.yaml');
  writeFileSync(
    path,
    toYaml({
      server: { address: `127.0.0.1:${options.port}`, adminAddress: '127.0.0.1:0', shutdownTimeout: '1s' },
      kubernetes: { mode: 'dry-run' },
      state: options.state ?? { path: 'edge-state' },
      providers: [{ name: 'github', type: 'github', secret: { value: RELAY_GITHUB_SECRET } }],
      relay: {
        heartbeat: '1s',
        ...options.relay,
        subscribers: options.subscribers.map((subscriber) => ({ name: subscriber.name, token: { value: subscriber.token }, ...(subscriber.repositories ? { repositories: subscriber.repositories } : {}) })),
      },
    }),
  );
  return path;
}

/**
 * An agent: its edge's events as provider `edge`, two targets in its namespace (`app` for REPO, `other` for
 * OTHER_REPO), so whatever the edge sends it is patched, and the test sees exactly what it was sent.
 */
export function writeAgentConfig(dir: string, options: { edgeUrl: string; token: string; namespace: string; proxy: FaultProxy; cluster: TestCluster; state?: Record<string, unknown> }): string {
  writeFileSync(join(dir, 'kubeconfig.yaml'), options.proxy.kubeconfig({ token: options.cluster.adminToken }));
  const path = join(dir, 'agent.yaml');
  const target = (name: string, repository: string) => ({ name, providers: ['edge'], match: { repository }, resources: [{ kind: 'GitRepository', namespace: options.namespace, name }] });
  writeFileSync(
    path,
    toYaml({
      server: { address: '127.0.0.1:0', adminAddress: '127.0.0.1:0', shutdownTimeout: '1s' },
      kubernetes: { mode: 'kubeconfig', kubeconfig: 'kubeconfig.yaml', requestTimeout: '5s', events: false },
      reconcile: { debounce: '100ms', retry: { initialDelay: '100ms', maxDelay: '500ms' } },
      state: options.state ?? { path: 'agent-state' },
      upstream: { url: options.edgeUrl, token: { value: options.token }, name: 'edge', reconnect: { initialDelay: '100ms', maxDelay: '500ms' } },
      targets: [target('app', REPO), target('other', OTHER_REPO)],
    }),
  );
  return path;
}

/** A fresh namespace holding the agents' two objects. */
export async function agentNamespace(cluster: TestCluster, prefix: string): Promise<string> {
  const namespace = await freshNamespace(cluster, prefix);
  await applyAll(cluster, [gitRepository(namespace, 'app'), gitRepository(namespace, 'other')]);
  return namespace;
}

/** PATCHes of `namespace/name` the API server answered 200 (arrival times at the proxy). */
export function patchesOf(proxy: FaultProxy, namespace: string, name: string): number[] {
  return proxy.requests.filter((request) => request.method === 'PATCH' && request.status === 200 && request.path.endsWith(`/namespaces/${namespace}/gitrepositories/${name}`)).map((request) => request.at);
}

/** Every PATCH of any object in `namespace`, whatever the answer. */
export function anyPatchIn(proxy: FaultProxy, namespace: string): number {
  return proxy.requests.filter((request) => request.method === 'PATCH' && request.path.includes(`/namespaces/${namespace}/`)).length;
}

/** A signed GitHub push of `repository` to main; resolves with the edge's answer status. */
export async function pushTo(edgeUrl: string, repository: string, deliveryId?: string): Promise<number> {
  const response = await post(`${edgeUrl}/hook/github`, githubWebhook(RELAY_GITHUB_SECRET, { repository, ...(deliveryId ? { deliveryId } : {}) }));
  await response.arrayBuffer();
  return response.status;
}

/** The value of one series in a process's /metrics, 0 when absent. */
export async function metric(adminUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
