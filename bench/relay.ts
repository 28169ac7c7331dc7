/**
 * Relay benchmark, two parts, each next to its baseline measured in the same run.
 *
 * 1. Latency: a signed GitHub push answered 202 → its patch acknowledged by the real kube-apiserver (the watch of
 *    bench/api-server.ts), p50 and p99, through the relay (push to an edge in dry-run; an agent process connected
 *    out to it patches) next to the direct path (the same push to a fluxgate that patches itself). Pushes one
 *    after another, interleaved (direct, relay, direct, …), each to its own object, so debounce holds nothing back.
 * 2. Throughput: one edge (dry-run, sqlite) with `--agents` subscribers, each with a stream open from this process
 *    (a minimal agent: reads the stream, acknowledges the latest id with one request in flight); pushes sent with
 *    16 in flight for `--seconds`: pushes/s accepted, events/s written to the agents (pushes × agents) until every
 *    agent had the last one, and the edge's RSS and CPU. Baseline: the same pushes to the same config without
 *    `relay:` (the direct path's acceptance, dry-run).
 *
 * The edge, the agent and the direct fluxgate are separate `bun src/main.ts serve` processes; the 100 simulated
 * agents share this process and its 2 cores with them, so the figures are a floor.
 *
 * usage: bun bench/relay.ts [--sequential 100] [--agents 100] [--seconds 10] [--only latency|throughput]
 */
import { createParser } from 'eventsource-parser';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { relayKeys } from '../src/relay/index.ts';
import { createGitRepositories, kubeconfigBlock, watchAnnotation, withCluster } from './api-server.ts';
import { githubProvider, githubPush, ms, percentile, printMachine, printTable, ratio, rssMiB, startFluxgate, type Fluxgate } from './support.ts';

const { values } = parseArgs({ options: { sequential: { type: 'string', default: '100' }, agents: { type: 'string', default: '100' }, seconds: { type: 'string', default: '10' }, only: { type: 'string' } } });
const sequential = Number(values.sequential);
const agentCount = Number(values.agents);
const seconds = Number(values.seconds);
const warmUp = 10;
const names = Array.from({ length: sequential + warmUp }, (_, index) => `repo-${index}`);

printMachine(`relay: push answered 202 → patch acknowledged, through an edge and an agent next to the direct path (${sequential} sequential pushes each); then one edge with ${agentCount} connected agents for ${seconds} s`);

/** CPU seconds (user + system) a process used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function latency(): Promise<void> {
  await withCluster(async (cluster, namespace) => {
    await createGitRepositories(cluster, namespace, names);
    const targets = (provider: string) => names.map((name) => `  - { name: ${name}, providers: [${provider}], match: { repository: bench/${name}, branches: [main] }, resources: [{ kind: GitRepository, name: ${name}, namespace: ${namespace} }] }`).join('\n');
    const common = `${kubeconfigBlock(cluster)}\nreconcile: { debounce: 2s, concurrency: 16 }\nstate: { store: sqlite, path: state }`;
    const direct = await startFluxgate((address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\n${common}\n${githubProvider}\ntargets:\n${targets('github')}\n`);
    const edge = await startFluxgate((address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\nkubernetes: { mode: dry-run }\nstate: { path: state }\n${githubProvider}\nrelay:\n  subscribers:\n    - { name: cluster-a, token: { value: bench-relay-token-5b1e } }\n`);
    const agent = await startFluxgate((address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\n${common}\nupstream: { url: ${edge.url}, token: { value: bench-relay-token-5b1e }, name: edge }\ntargets:\n${targets('edge')}\n`);
    const watch = await watchAnnotation(cluster, namespace);
    const pushes = names.map((name) => githubPush(`bench/${name}`));
    const through = async (gateway: Fluxgate, index: number) => {
      const acked = watch.nextChange(names[index]!);
      const answer = await pushes[index]!.send(`${gateway.url}/hook/github`);
      if (answer.status !== 202) throw new Error(`push answered ${answer.status}`);
      return (await acked).at - answer.answeredAt;
    };
    try {
      for (let index = sequential; index < sequential + warmUp; index += 1) {
        await through(direct, index);
        await through(edge, index);
      }
      const viaDirect: number[] = [];
      const viaRelay: number[] = [];
      for (let index = 0; index < sequential; index += 1) {
        viaDirect.push(await through(direct, index));
        viaRelay.push(await through(edge, index));
      }
      const row = (p: number) => [`sequential (${sequential}) p${p}`, ms(percentile(viaDirect, p)), ms(percentile(viaRelay, p)), ratio(percentile(viaRelay, p), percentile(viaDirect, p))];
      printTable(['202 → patch acknowledged', 'direct', 'relay', 'relay/direct'], [row(50), row(99)]);
      console.log(`warnings/errors logged: direct ${await direct.problems()}; edge ${await edge.problems()}; agent ${await agent.problems()}\n`);
    } finally {
      watch.stop();
      await agent.stop();
      await edge.stop();
      await direct.stop();
    }
  });
}

/**
 * A minimal agent: reads its stream, counts events, acknowledges the latest id (one request in flight, at most one
 * every 100 ms: an acknowledgement covers everything before it, and 100 of these share this process's core).
 */
function simulatedAgent(url: string, token: string) {
  const credential = relayKeys(token).credential;
  const state = { events: 0, lastId: '', lastAt: 0, acking: false, acked: '', stopped: false };
  const abort = new AbortController();
  const ack = async () => {
    if (state.stopped || state.acking || state.acked === state.lastId) return;
    state.acking = true;
    const id = state.lastId;
    try {
      const response = await fetch(`${url}/relay/v1/ack`, { method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
      await response.arrayBuffer();
      state.acked = id;
    } catch {
      // the edge stopping at the end; a failed acknowledgement is covered by the next one
    } finally {
      state.acking = false;
    }
    if (state.acked !== state.lastId) setTimeout(() => void ack(), 100);
  };
  const parser = createParser({
    onEvent(message) {
      if (message.event !== 'event' && message.event !== 'sync') return;
      if (message.event === 'event') {
        state.events += 1;
        state.lastAt = performance.now();
      }
      state.lastId = message.id ?? state.lastId;
      void ack();
    },
  });
  const connected = (async () => {
    const response = await fetch(`${url}/relay/v1/events`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${credential}` }, signal: abort.signal });
    if (!response.ok || !response.body) throw new Error(`stream refused: ${response.status}`);
    return response.body;
  })();
  const reading = connected.then(async (body) => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted at the end
    }
  });
  return { state, connected, stop: () => ((state.stopped = true), abort.abort(), reading) };
}

/** Pushes with 16 in flight for `seconds`; resolves with how many were accepted and when sending ended. */
async function flood(gateway: Fluxgate): Promise<{ accepted: number; seconds: number; endedAt: number }> {
  const push = githubPush('bench/repo-0');
  const started = performance.now();
  let accepted = 0;
  const inFlight = new Set<Promise<void>>();
  while (performance.now() - started < seconds * 1000) {
    const one: Promise<void> = push.send(`${gateway.url}/hook/github`).then((answer) => void (answer.status === 202 && (accepted += 1)));
    inFlight.add(one);
    void one.finally(() => inFlight.delete(one));
    if (inFlight.size >= 16) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const endedAt = performance.now();
  return { accepted, seconds: (endedAt - started) / 1000, endedAt };
}

async function throughput(): Promise<void> {
  const tokens = Array.from({ length: agentCount }, (_, index) => `bench-agent-token-${index}-7f3a`);
  // Both accept every push for one target (dry-run: its patch is logged): the only difference is `relay:`.
  const base = (address: string) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\nkubernetes: { mode: dry-run }\nstate: { path: state }\n${githubProvider}\ntargets:\n  - { name: app, providers: [github], match: { repository: bench/repo-0 }, resources: [{ kind: GitRepository, name: app, namespace: flux-system }] }\n`;
  const plain = await startFluxgate(base);
  let baseline: Awaited<ReturnType<typeof flood>>;
  let plainCpu: number;
  let plainRss: number;
  try {
    const cpuBefore = cpuSeconds(plain.pid);
    baseline = await flood(plain);
    plainCpu = (cpuSeconds(plain.pid) - cpuBefore) / baseline.seconds;
    plainRss = rssMiB(plain.pid, 'VmHWM');
  } finally {
    await plain.stop();
  }
  const subscribers = tokens.map((token, index) => `    - { name: agent-${index}, token: { value: ${token} } }`).join('\n');
  const edge = await startFluxgate((address) => `${base(address)}relay:\n  subscribers:\n${subscribers}\n`);
  const agents = tokens.map((token) => simulatedAgent(edge.url, token));
  try {
    await Promise.all(agents.map((agent) => agent.connected));
    const idleRss = rssMiB(edge.pid);
    const cpuBefore = cpuSeconds(edge.pid);
    const ownBefore = process.cpuUsage();
    const run = await flood(edge);
    // Until every agent had every event (or 60 s more).
    const deadline = performance.now() + 60_000;
    while (agents.some((agent) => agent.state.events < run.accepted) && performance.now() < deadline) await Bun.sleep(20);
    const lastAt = Math.max(...agents.map((agent) => agent.state.lastAt));
    const wall = (lastAt - (run.endedAt - run.seconds * 1000)) / 1000;
    const edgeCpu = (cpuSeconds(edge.pid) - cpuBefore) / wall;
    const own = process.cpuUsage(ownBefore);
    const clientCpu = (own.user + own.system) / 1e6 / wall;
    const delivered = agents.reduce((sum, agent) => sum + agent.state.events, 0);
    printTable(
      ['', `no relay`, `relay, ${agentCount} agents`, 'relay/no relay'],
      [
        ['pushes accepted/s (16 in flight)', (baseline.accepted / baseline.seconds).toFixed(0), (run.accepted / run.seconds).toFixed(0), ratio(run.accepted / run.seconds, baseline.accepted / baseline.seconds)],
        ['events written to agents/s', '—', (delivered / wall).toFixed(0), ''],
        ['edge CPU (cores)', plainCpu.toFixed(2), edgeCpu.toFixed(2), ratio(edgeCpu, plainCpu)],
        ['edge peak RSS', `${plainRss.toFixed(0)} MiB`, `${rssMiB(edge.pid, 'VmHWM').toFixed(0)} MiB`, ratio(rssMiB(edge.pid, 'VmHWM'), plainRss)],
      ],
    );
    const behind = agents.filter((agent) => agent.state.events < run.accepted).length;
    console.log(`\n${run.accepted} pushes in ${run.seconds.toFixed(1)} s; every agent had the last one ${(lastAt - run.endedAt).toFixed(0)} ms after the last 202; agents short of events: ${behind}; edge RSS idle with ${agentCount} streams ${idleRss.toFixed(0)} MiB, at the end ${rssMiB(edge.pid).toFixed(0)} MiB`);
    console.log(`this process (pushes and the ${agentCount} agents) used ${clientCpu.toFixed(2)} cores meanwhile`);
    console.log(`edge warnings/errors logged: ${await edge.problems()}`);
  } finally {
    await Promise.all(agents.map((agent) => agent.stop()));
    await edge.stop();
  }
}

if (values.only !== 'throughput') await latency();
if (values.only !== 'latency') await throughput();
