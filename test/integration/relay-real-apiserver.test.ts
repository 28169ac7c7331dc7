/**
 * The relay as users run it: an edge that verifies GitHub's webhooks and three agents, each a fluxgate process with
 * its own namespace of the real kube-apiserver, that connect out to it. A push reaches exactly the agents whose
 * subscriber filter allows it, and is patched in each; an agent never sees what its filter excludes; a wrong
 * token gets 401 and nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { relayKeys } from '../../src/relay/index.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import type { TestCluster } from '../support/kube-apiserver/cluster.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubPushWith, post } from '../support/webhooks.ts';
import { agentNamespace, anyPatchIn, freePort, metric, OTHER_REPO, patchesOf, pushTo, RELAY_GITHUB_SECRET, REPO, writeAgentConfig, writeEdgeConfig } from './relay-support.ts';
import { eventually } from './support.ts';

let cluster: TestCluster;
let proxy: FaultProxy;
clusterForFile((started) => void (cluster = started));
beforeAll(async () => {
  proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
});
afterAll(async () => {
  await proxy?.stop();
});

const SUBSCRIBERS = [
  { name: 'alpha', token: 'alpha-token-0c41d7e2', repositories: [REPO] },
  { name: 'beta', token: 'beta-token-9b02e5aa', repositories: ['your-org/*'] },
  { name: 'gamma', token: 'gamma-token-71f3c0d9', repositories: [OTHER_REPO] },
];

interface Agent {
  name: string;
  namespace: string;
  process: GatewayProcess;
}

async function stopAll(processes: readonly (GatewayProcess | undefined)[]): Promise<void> {
  for (const process of processes) process?.kill('SIGTERM');
  await Promise.all(processes.map((process) => process?.exited));
}

describe('an edge and three agents on loopback', () => {
  let edge: GatewayProcess;
  let edgeUrl: string;
  const agents: Agent[] = [];

  beforeAll(async () => {
    const port = await freePort();
    edgeUrl = `http://127.0.0.1:${port}`;
    edge = await startGatewayProcess(writeEdgeConfig(tempDir('fluxgate-relay-edge-').path, { port, subscribers: SUBSCRIBERS }));
    for (const subscriber of SUBSCRIBERS) {
      const namespace = await agentNamespace(cluster, `relay-${subscriber.name}`);
      const config = writeAgentConfig(tempDir(`fluxgate-relay-${subscriber.name}-`).path, { edgeUrl, token: subscriber.token, namespace, proxy, cluster });
      agents.push({ name: subscriber.name, namespace, process: await startGatewayProcess(config) });
    }
    await eventually('every agent connected', async () => (await metric(edge.adminUrl, 'fluxgate_relay_connected_agents', '{subscriber="alpha"}')) === 1 && (await metric(edge.adminUrl, 'fluxgate_relay_connected_agents', '{subscriber="beta"}')) === 1 && (await metric(edge.adminUrl, 'fluxgate_relay_connected_agents', '{subscriber="gamma"}')) === 1, { timeoutMs: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await stopAll([...agents.map((agent) => agent.process), edge]);
  });

  const agent = (name: string) => agents.find((candidate) => candidate.name === name)!;

  test('a push reaches exactly the agents whose filter allows it, and is patched in each; the others see nothing of it', async () => {
    const delivery = randomUUID();
    expect(await pushTo(edgeUrl, REPO, delivery)).toBe(202);
    await eventually('alpha and beta patched app', () => patchesOf(proxy, agent('alpha').namespace, 'app').length === 1 && patchesOf(proxy, agent('beta').namespace, 'app').length === 1, { timeoutMs: 15_000 });

    const other = randomUUID();
    expect(await pushTo(edgeUrl, OTHER_REPO, other)).toBe(202);
    await eventually('gamma patched other', () => patchesOf(proxy, agent('gamma').namespace, 'other').length === 1, { timeoutMs: 15_000 });
    // Both pushes acknowledged by the agents that had them: everything relayed has been taken.
    await eventually('alpha, beta and gamma acknowledged', async () => (await metric(edge.adminUrl, 'fluxgate_relay_events_acknowledged_total', '{subscriber="alpha"}')) === 1 && (await metric(edge.adminUrl, 'fluxgate_relay_events_acknowledged_total', '{subscriber="gamma"}')) === 1);

    // Gamma's filter excludes REPO, alpha's and beta's exclude OTHER_REPO: never sent, so never patched.
    expect(patchesOf(proxy, agent('gamma').namespace, 'app')).toEqual([]);
    expect(patchesOf(proxy, agent('alpha').namespace, 'other')).toEqual([]);
    expect(patchesOf(proxy, agent('beta').namespace, 'other')).toEqual([]);
    const seen = (name: string) => agent(name).process.lines.filter((line) => line.msg === 'relayed event accepted' || line.msg === 'relayed event ignored').map((line) => line.edgeDelivery);
    expect(seen('alpha')).toEqual([delivery]);
    expect(seen('beta')).toEqual([delivery]);
    expect(seen('gamma')).toEqual([other]);
    expect(await metric(edge.adminUrl, 'fluxgate_relay_events_published_total', '{subscriber="gamma"}')).toBe(1);
    expect(await metric(edge.adminUrl, 'fluxgate_relay_events_delivered_total', '{subscriber="gamma"}')).toBe(1);
    expect(await metric(edge.adminUrl, 'fluxgate_relay_events_delivered_total', '{subscriber="beta"}')).toBe(1);
  }, 60_000);

  test('the delivery log marks relayed events on both ends; /readyz and the status page show the upstream connection, last event and lag', async () => {
    const delivery = randomUUID();
    expect(await pushTo(edgeUrl, REPO, delivery)).toBe(202);
    const records = async (url: string) => ((await (await fetch(`${url}/api/deliveries`)).json()) as { deliveries: Record<string, any>[] }).deliveries;
    const onEdge = (await records(edge.adminUrl)).find((record) => record.deliveryId === delivery);
    expect(onEdge).toMatchObject({ provider: 'github', outcome: 'accepted', state: 'relayed', relayedTo: ['alpha', 'beta'], targets: [] });
    const alpha = agent('alpha').process;
    const relayed = await eventually('alpha\'s delivery log has the event, patched', async () => (await records(alpha.adminUrl)).find((record) => record.relayedFrom?.deliveryId === delivery && record.state === 'patched'), { timeoutMs: 15_000 });
    expect(relayed).toMatchObject({ provider: 'edge', type: 'relay', outcome: 'accepted', targets: ['app'], relayedFrom: { provider: 'github', type: 'github' } });
    expect(relayed.deliveryId).toMatch(/^[0-9a-z]+-[0-9]+$/);

    const ready = (await (await fetch(`${alpha.adminUrl}/readyz`)).json()) as { upstream?: { state: string; lastEventId?: string; lastEventAt?: string; lagSeconds?: number; gaps: number } };
    expect(ready.upstream).toMatchObject({ state: 'connected', lastEventId: relayed.deliveryId, gaps: 0 });
    expect(typeof ready.upstream?.lagSeconds).toBe('number');
    expect(Date.parse(ready.upstream!.lastEventAt!)).toBeGreaterThan(0);
    const page = await (await fetch(`${alpha.adminUrl}/?refresh=off`)).text();
    expect(page).toContain('<h2>Upstream</h2>');
    expect(page).toContain(`${edgeUrl}`);
    expect(page).toContain('connected</span> as alpha');
    expect(page).toContain(relayed.deliveryId);
    const edgePage = await (await fetch(`${edge.adminUrl}/?refresh=off`)).text();
    expect(edgePage).toContain('<h2>Relay subscribers</h2>');
    for (const subscriber of SUBSCRIBERS) expect(edgePage).toContain(`<td>${subscriber.name}</td>`);
    for (const subscriber of SUBSCRIBERS) expect(edgePage).not.toContain(subscriber.token);
  }, 60_000);

  test('a wrong token gets 401 and nothing: on the stream, on acknowledgements, and as an agent that never patches', async () => {
    const before = await metric(edge.adminUrl, 'fluxgate_relay_requests_refused_total', '{reason="unauthorized"}');
    for (const authorization of ['Bearer not-a-subscribers-credential', 'Bearer alpha-token-0c41d7e2', 'Basic YWxwaGE6eA==', undefined]) {
      const response = await fetch(`${edgeUrl}/relay/v1/events`, { headers: { accept: 'text/event-stream', ...(authorization ? { authorization } : {}) } });
      expect(response.status).toBe(401);
      const body = await response.text();
      expect(body).not.toContain('event:');
      expect(body).not.toContain(REPO);
    }
    const ack = await fetch(`${edgeUrl}/relay/v1/ack`, { method: 'POST', headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' }, body: '{"id":"x-1"}' });
    expect(ack.status).toBe(401);
    expect(await metric(edge.adminUrl, 'fluxgate_relay_requests_refused_total', '{reason="unauthorized"}')).toBe(before + 5);

    const namespace = await agentNamespace(cluster, 'relay-wrong');
    const intruder = await startGatewayProcess(writeAgentConfig(tempDir('fluxgate-relay-wrong-').path, { edgeUrl, token: 'a-token-no-subscriber-has-1234', namespace, proxy, cluster }));
    try {
      await eventually('the intruder was refused', () => intruder.lines.some((line) => line.msg === 'the edge refused this agent\'s credential: is upstream.token the token of its subscriber on the edge?'), { timeoutMs: 15_000 });
      const patched = patchesOf(proxy, agent('alpha').namespace, 'app').length;
      expect(await pushTo(edgeUrl, REPO)).toBe(202);
      await eventually('alpha patched the push', () => patchesOf(proxy, agent('alpha').namespace, 'app').length === patched + 1, { timeoutMs: 15_000 });
      await eventually('the intruder was refused again', () => intruder.lines.filter((line) => line.msg === 'the edge refused this agent\'s credential: is upstream.token the token of its subscriber on the edge?').length >= 2, { timeoutMs: 15_000 });
      expect(intruder.lines.some((line) => line.msg === 'connected to the edge' || line.msg === 'relayed event accepted')).toBe(false);
      expect(anyPatchIn(proxy, namespace)).toBe(0);
    } finally {
      await stopAll([intruder]);
    }
  }, 60_000);
});

/** One edge with one subscriber (alpha: REPO only) and its agent's config, each test its own state. */
async function pair(prefix: string, relay: Record<string, unknown> = {}) {
  const port = await freePort();
  const edgeUrl = `http://127.0.0.1:${port}`;
  const subscriber = SUBSCRIBERS[0]!;
  const edgeConfig = writeEdgeConfig(tempDir(`fluxgate-${prefix}-edge-`).path, { port, subscribers: [subscriber], relay });
  const namespace = await agentNamespace(cluster, prefix);
  const agentConfig = writeAgentConfig(tempDir(`fluxgate-${prefix}-agent-`).path, { edgeUrl, token: subscriber.token, namespace, proxy, cluster });
  return { edgeUrl, edgeConfig, agentConfig, namespace };
}

const connected = (process: GatewayProcess, count = 1) => eventually(`the agent connected ${count} time(s)`, () => process.lines.filter((line) => line.msg === 'connected to the edge').length >= count, { timeoutMs: 30_000 });

describe('nothing is lost across disconnects and restarts', () => {
  test('an agent killed (-9) before a push and started after it still patches it, once', async () => {
    const { edgeUrl, edgeConfig, agentConfig, namespace } = await pair('relay-away');
    const edge = await startGatewayProcess(edgeConfig);
    let agent: GatewayProcess | undefined;
    try {
      agent = await startGatewayProcess(agentConfig);
      await connected(agent);
      agent.kill('SIGKILL');
      await agent.exited;
      expect(await pushTo(edgeUrl, REPO)).toBe(202);
      expect(await metric(edge.adminUrl, 'fluxgate_relay_subscriber_lag_events', '{subscriber="alpha"}')).toBe(1);
      expect(patchesOf(proxy, namespace, 'app')).toEqual([]);
      agent = await startGatewayProcess(agentConfig);
      await eventually('the push patched after the agent came back', () => patchesOf(proxy, namespace, 'app').length === 1, { timeoutMs: 15_000 });
      await eventually('the edge has it acknowledged', async () => (await metric(edge.adminUrl, 'fluxgate_relay_subscriber_lag_events', '{subscriber="alpha"}')) === 0);
      // Restarted once more: nothing is delivered twice (it resumes after what it acknowledged).
      agent.kill('SIGTERM');
      await agent.exited;
      agent = await startGatewayProcess(agentConfig);
      await connected(agent);
      expect(agent.lines.some((line) => line.msg === 'relayed event accepted')).toBe(false);
      expect(patchesOf(proxy, namespace, 'app')).toHaveLength(1);
    } finally {
      await stopAll([agent, edge]);
    }
  }, 90_000);

  test('the edge killed (-9) between the push\'s 202 and the agent\'s connect loses nothing', async () => {
    const { edgeUrl, edgeConfig, agentConfig, namespace } = await pair('relay-edgekill');
    const first = await startGatewayProcess(edgeConfig);
    const sent = [await pushTo(edgeUrl, REPO), await pushTo(edgeUrl, REPO)];
    first.kill('SIGKILL');
    await first.exited;
    expect(sent).toEqual([202, 202]);
    let edge: GatewayProcess | undefined;
    let agent: GatewayProcess | undefined;
    try {
      edge = await startGatewayProcess(edgeConfig);
      agent = await startGatewayProcess(agentConfig);
      await eventually('both pushes taken by the agent', () => agent!.lines.filter((line) => line.msg === 'relayed event accepted').length === 2, { timeoutMs: 15_000 });
      await eventually('app patched', () => patchesOf(proxy, namespace, 'app').length >= 1, { timeoutMs: 15_000 });
      expect(agent.lines.some((line) => line.msg === 'the edge no longer has events this agent had not taken: everything it watches is reconciled')).toBe(false);
    } finally {
      await stopAll([agent, edge]);
    }
  }, 90_000);

  test('an agent away longer than the edge keeps events is told so (logged, counted, shown) and reconciles everything it watches', async () => {
    const { edgeUrl, edgeConfig, agentConfig, namespace } = await pair('relay-gap', { retention: { maxEvents: 2 } });
    const edge = await startGatewayProcess(edgeConfig);
    let agent: GatewayProcess | undefined;
    try {
      agent = await startGatewayProcess(agentConfig);
      await connected(agent);
      agent.kill('SIGTERM');
      await agent.exited;
      for (let i = 0; i < 4; i += 1) expect(await pushTo(edgeUrl, REPO)).toBe(202);
      expect(await metric(edge.adminUrl, 'fluxgate_relay_store_events')).toBe(2);
      agent = await startGatewayProcess(agentConfig);
      // `other` is only ever named by OTHER_REPO, which alpha's filter excludes: only the gap's reconcile patches it.
      await eventually('everything the agent watches patched', () => patchesOf(proxy, namespace, 'other').length === 1 && patchesOf(proxy, namespace, 'app').length >= 1, { timeoutMs: 15_000 });
      expect(agent.lines.filter((line) => line.msg === 'the edge no longer has events this agent had not taken: everything it watches is reconciled')).toEqual([expect.objectContaining({ objects: 2 })]);
      expect(edge.lines.some((line) => line.msg === 'relay: events the agent had not acknowledged are no longer kept; it was told to reconcile everything it watches')).toBe(true);
      expect(await metric(agent.adminUrl, 'fluxgate_upstream_gaps_total')).toBe(1);
      expect(await metric(edge.adminUrl, 'fluxgate_relay_gaps_total', '{subscriber="alpha"}')).toBe(1);
      const ready = (await (await fetch(`${agent.adminUrl}/readyz`)).json()) as { upstream?: { state: string; gaps: number; lastEventId?: string } };
      expect(ready.upstream).toMatchObject({ state: 'connected', gaps: 1 });
      const page = await (await fetch(`${agent.adminUrl}/?refresh=off`)).text();
      expect(page).toContain('<h2>Upstream</h2>');
      expect(page).toContain('are no longer kept (relay.retention)');
    } finally {
      await stopAll([agent, edge]);
    }
  }, 90_000);
});

/** An SSE reader that sends its request and then reads nothing: the kernel's buffers fill, then the edge's. */
async function stuckReader(edgeUrl: string, token: string): Promise<Socket> {
  const { port } = new URL(edgeUrl);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`GET /relay/v1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${relayKeys(token).credential}\r\n\r\n`);
  socket.pause();
  return socket;
}

/** A GitHub push of REPO whose normalized event is about `kib` KiB (its commit adds that many 1 KiB paths). */
function largePush(kib: number) {
  return githubPushWith(RELAY_GITHUB_SECRET, (payload) => {
    payload.commits[0].added = Array.from({ length: kib }, (_, i) => `deploy/${String(i).padStart(6, '0')}/${'x'.repeat(1000)}`);
    payload.head_commit.added = payload.commits[0].added;
    payload.repository = JSON.parse(JSON.stringify(payload.repository).replaceAll(payload.repository.full_name, REPO));
  });
}

describe('a slow subscriber and a proxy in the way', () => {
  test('a subscriber that stops reading holds a bounded part of the edge and does not slow the others', async () => {
    const port = await freePort();
    const edgeUrl = `http://127.0.0.1:${port}`;
    const stuck = { name: 'stuck', token: 'stuck-token-5e19a7c3' };
    const edgeConfig = writeEdgeConfig(tempDir('fluxgate-relay-slow-edge-').path, { port, subscribers: [SUBSCRIBERS[0]!, stuck], relay: { maxBufferedBytes: '64KiB', stallTimeout: '5s' } });
    const namespace = await agentNamespace(cluster, 'relay-slow');
    const edge = await startGatewayProcess(edgeConfig);
    let agent: GatewayProcess | undefined;
    const socket = await stuckReader(edgeUrl, stuck.token);
    try {
      agent = await startGatewayProcess(writeAgentConfig(tempDir('fluxgate-relay-slow-agent-').path, { edgeUrl, token: SUBSCRIBERS[0]!.token, namespace, proxy, cluster }));
      await eventually('both connected', async () => (await metric(edge.adminUrl, 'fluxgate_relay_connected_agents', '{subscriber="stuck"}')) === 1 && (await metric(edge.adminUrl, 'fluxgate_relay_connected_agents', '{subscriber="alpha"}')) === 1, { timeoutMs: 30_000 });
      // About 12 MiB of events: more than loopback's socket buffers hold, so the stuck stream fills up.
      const PUSHES = 200;
      for (let i = 0; i < PUSHES; i += 1) {
        const response = await post(`${edgeUrl}/hook/github`, largePush(60));
        expect(response.status).toBe(202);
        await response.arrayBuffer();
      }
      await eventually('alpha acknowledged every push', async () => (await metric(edge.adminUrl, 'fluxgate_relay_events_acknowledged_total', '{subscriber="alpha"}')) === PUSHES, { timeoutMs: 60_000, describe: async () => `${(await (await fetch(`${edge.adminUrl}/metrics`)).text()).split('\n').filter((line) => line.startsWith('fluxgate_relay')).join('\n')}\n${agent!.lines.slice(-8).map((line) => JSON.stringify(line)).join('\n')}\n${edge.lines.slice(-8).map((line) => JSON.stringify(line)).join('\n')}` });
      // Meanwhile the stuck stream took only what fit in its buffers; the edge stopped reading the log for it.
      expect(await metric(edge.adminUrl, 'fluxgate_relay_events_published_total', '{subscriber="stuck"}')).toBe(PUSHES);
      expect(await metric(edge.adminUrl, 'fluxgate_relay_events_delivered_total', '{subscriber="stuck"}')).toBeLessThan(PUSHES);
      expect(await metric(edge.adminUrl, 'fluxgate_relay_subscriber_lag_events', '{subscriber="stuck"}')).toBe(PUSHES);
      await eventually('alpha patched the last push', () => patchesOf(proxy, namespace, 'app').length >= 1, { timeoutMs: 15_000 });
      // It takes nothing for relay.stallTimeout: its stream is closed (it would resume from what it acknowledged).
      await eventually('the stuck stream closed as stalled', async () => (await metric(edge.adminUrl, 'fluxgate_relay_streams_ended_total', '{subscriber="stuck",reason="stalled"}')) === 1, { timeoutMs: 30_000 });
    } finally {
      socket.destroy();
      await stopAll([agent, edge]);
    }
  }, 180_000);

  test('an event changed on its way (a proxy that rewrites the stream) does not verify: the agent takes nothing of it', async () => {
    const port = await freePort();
    const edgeUrl = `http://127.0.0.1:${port}`;
    const edge = await startGatewayProcess(writeEdgeConfig(tempDir('fluxgate-relay-tamper-edge-').path, { port, subscribers: [SUBSCRIBERS[0]!] }));
    const tampering = { on: true };
    // Forwards to the edge; while `on`, every event's ref is rewritten (the target still matches it).
    const rewriter = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(request) {
        const url = new URL(request.url);
        const upstream = await fetch(`${edgeUrl}${url.pathname}`, { method: request.method, headers: request.headers, ...(request.method === 'POST' ? { body: await request.arrayBuffer() } : {}) });
        if (!url.pathname.endsWith('/events') || !upstream.body) return upstream;
        const decoder = new TextDecoder();
        const encoder = new TextEncoder();
        const rewrite = new TransformStream<Uint8Array, Uint8Array>({ transform: (chunk, out) => out.enqueue(encoder.encode(tampering.on ? decoder.decode(chunk).replaceAll('refs/heads/main', 'refs/heads/evil') : decoder.decode(chunk))) });
        return new Response(upstream.body.pipeThrough(rewrite), { status: upstream.status, headers: upstream.headers });
      },
    });
    const namespace = await agentNamespace(cluster, 'relay-tamper');
    let agent: GatewayProcess | undefined;
    try {
      agent = await startGatewayProcess(writeAgentConfig(tempDir('fluxgate-relay-tamper-agent-').path, { edgeUrl: `http://127.0.0.1:${rewriter.port}`, token: SUBSCRIBERS[0]!.token, namespace, proxy, cluster }));
      await connected(agent);
      expect(await pushTo(edgeUrl, REPO)).toBe(202);
      const refusals = () => agent!.lines.filter((line) => line.msg === 'an event from the edge did not verify: the connection was dropped, nothing of it taken').length;
      await eventually('the agent refused the rewritten event twice', () => refusals() >= 2, { timeoutMs: 15_000 });
      expect(agent.lines.some((line) => line.msg === 'relayed event accepted')).toBe(false);
      expect(anyPatchIn(proxy, namespace)).toBe(0);
      // The same event, unchanged, is taken: what was refused was the rewriting.
      tampering.on = false;
      await eventually('patched once the stream is left alone', () => patchesOf(proxy, namespace, 'app').length === 1, { timeoutMs: 15_000 });
    } finally {
      await stopAll([agent, edge]);
      rewriter.stop(true);
    }
  }, 90_000);
});
