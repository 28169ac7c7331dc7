/**
 * The journal's stores side by side: ingest (signed GitHub pushes answered 202 per second, 32 in flight) and
 * push → patch acknowledged (p50, p99, one push after another, each to its own object) with `state.store: nats`
 * on one local nats-server (JetStream, R1), against `store: memory` as the baseline in the same run, on the same
 * real kube-apiserver. `measureStore` is what a wider comparison (memory / sqlite / nats) calls for each store.
 *
 * usage: bun bench/nats.ts [--seconds 10] [--sequential 50]
 */
import { parseArgs } from 'node:util';
import { startNatsServers } from '../test/support/nats-server.ts';
import type { TestCluster } from '../test/support/kube-apiserver/cluster.ts';
import { createGitRepositories, kubeconfigBlock, watchAnnotation, withCluster } from './api-server.ts';
import { githubProvider, githubPush, ms, percentile, printMachine, printTable, ratio, startFluxgate } from './support.ts';

export interface StoreFigures {
  /** 202s per second at 32 in flight. */
  ingestPerSecond: number;
  /** Push sent → patch acknowledged (the watch event carrying the new value), milliseconds. */
  p50: number;
  p99: number;
  /** Answers other than 202 during the run. */
  refused: number;
}

/**
 * Runs one fluxgate with the given `state:` block (YAML flow mapping) against `cluster`, on fresh objects named
 * with `prefix`, and measures it.
 *
 * @example await measureStore(cluster, namespace, '{ store: memory }', 'mem', { seconds: 10, sequential: 50 })
 */
export async function measureStore(cluster: TestCluster, namespace: string, state: string, prefix: string, options: { seconds: number; sequential: number }): Promise<StoreFigures> {
  const ingestObjects = 200;
  const names = Array.from({ length: ingestObjects + options.sequential + 10 }, (_, index) => `${prefix}-${index}`);
  await createGitRepositories(cluster, namespace, names);
  const targets = names.map((name) => `  - { name: ${name}, providers: [github], match: { repository: bench/${name}, branches: [main] }, resources: [{ kind: GitRepository, name: ${name}, namespace: ${namespace} }] }`);
  const kube = kubeconfigBlock(cluster).replace(/ }$/, ', events: false }');
  const gateway = await startFluxgate((address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\n${kube}\nreconcile: { debounce: 2s, concurrency: 16 }\nstate: ${state}\n${githubProvider}\ntargets:\n${targets.join('\n')}\n`);
  const hook = `${gateway.url}/hook/github`;
  const pushes = names.map((name) => githubPush(`bench/${name}`));
  const watch = await watchAnnotation(cluster, namespace);
  let refused = 0;
  try {
    // Latency first (an idle gateway), on objects of their own: push → 202 → the watch sees the new value.
    const latencies: number[] = [];
    for (let index = ingestObjects; index < names.length; index += 1) {
      const acked = watch.nextChange(names[index]!);
      const answer = await pushes[index]!.send(hook);
      if (answer.status !== 202) {
        refused += 1;
        acked.catch(() => {});
        continue;
      }
      const at = (await acked).at;
      if (index >= ingestObjects + 10) latencies.push(at - answer.sentAt); // the first ten warm up
    }
    // Ingest: a closed loop of 32 senders for `seconds`, over 200 objects (debounce folds the rest).
    let accepted = 0;
    let next = 0;
    const until = performance.now() + options.seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (performance.now() < until) {
          const answer = await pushes[next++ % ingestObjects]!.send(hook);
          if (answer.status === 202) accepted += 1;
          else refused += 1;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    return { ingestPerSecond: accepted / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), refused };
  } finally {
    watch.stop();
    await gateway.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, sequential: { type: 'string', default: '50' } } });
  const options = { seconds: Number(values.seconds), sequential: Number(values.sequential) };
  printMachine(`journal stores: ingest (32 in flight, ${options.seconds} s) and push → patch acknowledged (${options.sequential} sequential), store: memory (baseline) and nats (one local nats-server, R1)`);
  const nats = await startNatsServers({ nodes: 1 });
  try {
    await withCluster(async (cluster, namespace) => {
      const memory = await measureStore(cluster, namespace, '{ store: memory }', 'mem', options);
      const shared = await measureStore(cluster, namespace, `{ store: nats, nats: { servers: [${JSON.stringify(nats.urls[0])}], replicas: 1 } }`, 'nats', options);
      printTable(
        ['', 'memory', 'nats', 'nats/memory'],
        [
          ['ingest (202/s)', memory.ingestPerSecond.toFixed(0), shared.ingestPerSecond.toFixed(0), ratio(shared.ingestPerSecond, memory.ingestPerSecond)],
          ['push → patch p50', ms(memory.p50), ms(shared.p50), ratio(shared.p50, memory.p50)],
          ['push → patch p99', ms(memory.p99), ms(shared.p99), ratio(shared.p99, memory.p99)],
          ['refused', memory.refused, shared.refused, ''],
        ],
      );
    });
  } finally {
    await nats.stop();
  }
}
