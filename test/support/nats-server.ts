/**
 * Real NATS servers with JetStream for tests of `state.store: nats`: one node, or a three-node cluster (R3) on
 * loopback, each with its own store directory. Debian's nats-server (2.9), installed by prepare-nats.sh when
 * missing. A node can be killed (`kill -9`) and started again on the same port and store, as a pod would.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { tempDir } from './temp-dir.ts';

export interface NatsNode {
  name: string;
  /** nats://127.0.0.1:PORT */
  url: string;
  /** Whether its process is running. */
  running(): boolean;
  /** `kill -9`: what it had stored stays in its directory. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store; resolves once it is healthy. */
  start(): Promise<void>;
}

export interface NatsServers {
  nodes: NatsNode[];
  urls: string[];
  /** Kills every node and removes their stores. */
  stop(): Promise<void>;
}

let binaryOnce: string | undefined;

/** The nats-server binary: prepare-nats.sh installs Debian's when missing. */
export function natsServerBinary(): string {
  if (binaryOnce) return binaryOnce;
  const script = resolve(import.meta.dir, 'prepare-nats.sh');
  const prepared = spawnSync('bash', [script], { encoding: 'utf8' });
  const path = prepared.stdout.trim().split('\n').at(-1);
  if (prepared.status !== 0 || !path) throw new Error(`prepare-nats.sh failed: ${prepared.stderr}`);
  return (binaryOnce = path);
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((done, fail) => {
      const server = createServer();
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => done(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** Waits until the node's monitoring endpoint says JetStream is healthy (a cluster: once its peers are routed). */
async function healthy(monitorPort: number, exited: () => boolean, output: () => string, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (exited()) throw new Error(`nats-server ended before it was healthy:\n${output()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`nats-server was not healthy after ${timeoutMs} ms:\n${output()}`);
}

/**
 * @example
 * const nats = await startNatsServers({ nodes: 3 });
 * await nats.nodes[1]!.kill();
 * await nats.stop();
 */
export async function startNatsServers(options: { nodes: 1 | 3 } = { nodes: 1 }): Promise<NatsServers> {
  const binary = natsServerBinary();
  const dir = tempDir('fluxgate-nats-');
  const count = options.nodes;
  const ports = await freePorts(count * 3);
  const clusterName = `fluxgate-test-${process.pid}`;
  const routes = Array.from({ length: count }, (_, i) => `nats://127.0.0.1:${ports[count + i]}`).join(',');
  const nodes = Array.from({ length: count }, (_, i) => {
    const name = `n${i}`;
    const [port, clusterPort, monitorPort] = [ports[i]!, ports[count + i]!, ports[2 * count + i]!];
    const store = join(dir.path, name);
    mkdirSync(store, { recursive: true });
    const args = ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-n', name, '-js', '-sd', store];
    if (count > 1) args.push('--cluster_name', clusterName, '--cluster', `nats://127.0.0.1:${clusterPort}`, '--routes', routes);
    let child: ReturnType<typeof Bun.spawn> | undefined;
    let ended = true;
    let output = '';
    const node: NatsNode & { launch(): void; monitorPort: number; exitedFlag(): boolean; output(): string } = {
      name,
      url: `nats://127.0.0.1:${port}`,
      monitorPort,
      running: () => !ended,
      exitedFlag: () => ended,
      output: () => output,
      launch() {
        output = '';
        ended = false;
        const spawned = Bun.spawn([binary, ...args], { stdout: 'ignore', stderr: 'pipe' });
        child = spawned;
        void (async () => {
          const decoder = new TextDecoder();
          for await (const chunk of spawned.stderr) output = (output + decoder.decode(chunk)).slice(-20_000);
        })();
        void spawned.exited.then(() => {
          if (child === spawned) ended = true;
        });
      },
      async kill() {
        const running = child;
        if (!running || ended) return;
        running.kill('SIGKILL');
        await running.exited;
        ended = true;
      },
      async start() {
        if (!ended) return;
        node.launch();
        await healthy(monitorPort, () => ended, () => output);
      },
    };
    return node;
  });
  for (const node of nodes) node.launch();
  try {
    await Promise.all(nodes.map((node) => healthy(node.monitorPort, node.exitedFlag, node.output)));
  } catch (error) {
    for (const node of nodes) await node.kill();
    dir.remove();
    throw error;
  }
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    async stop() {
      for (const node of nodes) await node.kill();
      dir.remove();
    },
  };
}
