/**
 * Several edges (`state.store: nats`): two edge replicas behind a round-robin proxy (a Service) on one JetStream
 * server, two agents connecting out through that proxy, each with its own namespace of the real kube-apiserver.
 * Pushes are accepted by either replica, an agent's stream and its acknowledgements land on either, one replica is
 * killed (-9) midway and its agents move to the other: every push is patched in every agent it is for, exactly
 * once, and a redelivery of an accepted push (to the other replica) reaches no agent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import type { TestCluster } from '../support/kube-apiserver/cluster.ts';
import { startNatsServers, type NatsServers } from '../support/nats-server.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.ts';
import { tempDir } from '../support/temp-dir.ts';
import { agentNamespace, freePort, metric, patchesOf, pushTo, REPO, writeAgentConfig, writeEdgeConfig } from './relay-support.ts';
import { eventually } from './support.ts';

let cluster: TestCluster;
let apiProxy: FaultProxy;
let nats: NatsServers;
clusterForFile((started) => void (cluster = started));
beforeAll(async () => {
  apiProxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
  nats = await startNatsServers({ nodes: 1 });
}, 120_000);
afterAll(async () => {
  await nats?.stop();
  await apiProxy?.stop();
});

const SUBSCRIBERS = [
  { name: 'alpha', token: 'alpha-token-nats-4d1b9e', repositories: [REPO] },
  { name: 'beta', token: 'beta-token-nats-a02c7f', repositories: ['your-org/*'] },
];

describe('two edge replicas on NATS behind a round-robin proxy', () => {
  const edges: GatewayProcess[] = [];
  const agents: { name: string; namespace: string; process: GatewayProcess }[] = [];
  let front: RoundRobinProxy;

  beforeAll(async () => {
    const state = { store: 'nats', nats: { servers: nats.urls, name: 'relayedge', replicas: 1, lease: '5s' } };
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      edges.push(await startGatewayProcess(writeEdgeConfig(tempDir(`fluxgate-relay-nats-edge${i}-`).path, { port, subscribers: SUBSCRIBERS, state })));
    }
    front = startRoundRobinProxy(edges.map((edge) => edge.url));
    for (const subscriber of SUBSCRIBERS) {
      const namespace = await agentNamespace(cluster, `relay-nats-${subscriber.name}`);
      const config = writeAgentConfig(tempDir(`fluxgate-relay-nats-${subscriber.name}-`).path, { edgeUrl: front.url, token: subscriber.token, namespace, proxy: apiProxy, cluster });
      agents.push({ name: subscriber.name, namespace, process: await startGatewayProcess(config) });
    }
    await eventually('both agents connected', () => agents.every((agent) => agent.process.lines.some((line) => line.msg === 'connected to the edge')), { timeoutMs: 30_000 });
  }, 120_000);
  afterAll(async () => {
    for (const process of [...agents.map((agent) => agent.process), ...edges]) process.kill('SIGTERM');
    await Promise.all([...agents.map((agent) => agent.process.exited), ...edges.map((edge) => edge.exited)]);
    await front?.stop();
  });

  const patches = (agent: { namespace: string }) => patchesOf(apiProxy, agent.namespace, 'app').length;
  const taken = (agent: { process: GatewayProcess }) => agent.process.lines.filter((line) => line.msg === 'relayed event accepted').map((line) => line.edgeDelivery as string);

  /** One push through the front, then until both agents patched it: a duplicate would show as an extra patch. */
  async function pushAndWait(sent: string[]): Promise<void> {
    const delivery = randomUUID();
    const before = agents.map(patches);
    expect(await pushTo(front.url, REPO, delivery)).toBe(202);
    sent.push(delivery);
    await eventually(`push ${sent.length} patched by both agents`, () => agents.every((agent, i) => patches(agent) === before[i]! + 1), {
      timeoutMs: 30_000,
      describe: () => JSON.stringify({ patches: agents.map(patches), taken: agents.map(taken), edges: edges.map((edge) => edge.lines.slice(-5)) }),
    });
  }

  test('every push reaches every agent it is for, patched exactly once, across a replica killed (-9) midway', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 4; i += 1) await pushAndWait(sent);
    // Both replicas took pushes and served streams or acknowledgements.
    expect(front.answered.every((count) => count > 0)).toBe(true);

    edges[0]!.kill('SIGKILL');
    await edges[0]!.exited;
    for (let i = 0; i < 4; i += 1) await pushAndWait(sent);

    // A redelivery of an accepted push (GitHub's "Redeliver", to the surviving replica) is a duplicate at the edge.
    expect(await pushTo(front.url, REPO, sent[0])).toBe(200);
    const last = sent.length;
    await pushAndWait(sent);
    for (const agent of agents) {
      expect(taken(agent)).toEqual(sent);
      expect(patches(agent)).toBe(last + 1);
      expect(agent.process.lines.some((line) => line.msg === 'the edge no longer has events this agent had not taken: everything it watches is reconciled')).toBe(false);
    }
    await eventually('the surviving replica has everything acknowledged', async () => (await metric(edges[1]!.adminUrl, 'fluxgate_relay_subscriber_lag_events', '{subscriber="alpha"}')) === 0 && (await metric(edges[1]!.adminUrl, 'fluxgate_relay_subscriber_lag_events', '{subscriber="beta"}')) === 0);
  }, 180_000);
});
