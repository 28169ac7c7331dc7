/**
 * Discovery benchmark against the REAL kube-apiserver the test suite builds (test/support/kube-apiserver): N
 * GitRepositories (default 10,000) in 20 namespaces, D of them (default 1,000) following `your-org/bench-app`
 * main in every URL spelling, the others other repositories. Each round, interleaved, runs fluxgate twice as its
 * own process (`bun src/main.ts serve`), talking HTTPS to the API server:
 *
 * - discovery: `discovery: { enabled: true }`, no targets; it watches all four kinds, so it lists and indexes the
 *   N GitRepositories;
 * - configured (the baseline): discovery off, one target naming the same D objects in `resources`.
 *
 * and measures, with a baseline from the same round:
 * - index build: from discovery's start to its first complete list of the N objects (fluxgate's own
 *   `discovery listed` log line, `ms`), against the same paginated LIST (500 a page) done by a bare client;
 * - RSS: VmRSS of each fluxgate once ready and quiet; and, in this process, the heap the index itself keeps for
 *   the listed objects (after a full GC), which is what stays while the rest of the RSS difference is the
 *   runtime's heap having grown during the first list;
 * - push → last patch: from sending one signed GitHub push to the D-th successful patch in
 *   `fluxgate_reconcile_requests_total` (polled every 10 ms), discovered against configured.
 *
 * usage: bun bench/discovery.ts [--objects 10000] [--discovered 1000] [--rounds 3]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { createDiscoveryIndex } from '../src/discovery/discovery-index.ts';
import { createKubeClient } from '../src/kube/client.ts';
import { watchedObject, type WatchedObject } from '../src/kube/watched-object.ts';
import { startTestCluster, type TestCluster } from '../test/support/kube-apiserver/cluster.ts';
import { tempDir } from '../test/support/temp-dir.ts';
import { githubWebhook } from '../test/support/webhooks.ts';
import { freePort } from './support.ts';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '10000' }, discovered: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' } } });
const N = Number(values.objects);
const D = Number(values.discovered);
const ROUNDS = Number(values.rounds);
const NAMESPACES = 20;
const root = join(import.meta.dir, '..');
const secret = 'bench-discovery-secret-7c1e';
const dir = tempDir('fluxgate-bench-discovery-');
const GIT = 'source.toolkit.fluxcd.io/v1';

const forms = (repo: string) => [
  `https://github.com/your-org/${repo}`,
  `https://github.com/Your-Org/${repo}.git`,
  `ssh://git@github.com/your-org/${repo}.git`,
  `git@github.com:your-org/${repo}.git`,
];

/** Creates the objects with up to 32 requests in flight (one POST each). */
async function populate(cluster: TestCluster): Promise<{ namespace: string; name: string }[]> {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
  for (const name of namespaces) await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const discovered: { namespace: string; name: string }[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < N; i = next++) {
        const namespace = namespaces[i % NAMESPACES]!;
        const name = `repo-${String(i).padStart(5, '0')}`;
        const hit = i % Math.round(N / D) === 0 && discovered.length < D;
        if (hit) discovered.push({ namespace, name });
        const url = hit ? forms('bench-app')[i % 4]! : forms(`other-${i % 500}`)[i % 4]!;
        const res = await cluster.request('POST', `/apis/${GIT}/namespaces/${namespace}/gitrepositories`, { apiVersion: GIT, kind: 'GitRepository', metadata: { name, namespace }, spec: { url, interval: '10m', ref: { branch: 'main' } } });
        if (res.status !== 201 && res.status !== 409) throw new Error(`create ${namespace}/${name}: ${res.status}`);
      }
    }),
  );
  console.error(`created ${N} GitRepositories (${discovered.length} of bench-app) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return discovered;
}

function config(mode: 'discovery' | 'configured', discovered: { namespace: string; name: string }[], port: number): string {
  const path = join(dir.path, `${mode}.yaml`);
  writeFileSync(
    path,
    toYaml({
      server: { address: `127.0.0.1:${port}`, adminAddress: '127.0.0.1:0' },
      kubernetes: { mode: 'kubeconfig', kubeconfig: join(dir.path, 'kubeconfig.yaml'), requestTimeout: '30s' },
      reconcile: { debounce: '100ms', concurrency: 16 },
      providers: [{ name: 'github', type: 'github', secret: { env: 'BENCH_SECRET' } }],
      ...(mode === 'discovery'
        ? { discovery: { enabled: true } }
        : { targets: [{ name: 'bench', providers: ['github'], match: { repository: 'your-org/bench-app', branches: ['main'] }, resources: discovered.map(({ namespace, name }) => ({ kind: 'GitRepository', namespace, name })) }] }),
    }),
  );
  return path;
}

interface Run {
  indexMs?: number;
  rssMiB: number;
  pushToLastMs: number;
}

/** One fluxgate process: ready, quiet RSS, then one push and the time until the D-th successful patch. */
async function run(mode: 'discovery' | 'configured', discovered: { namespace: string; name: string }[]): Promise<Run> {
  const port = freePort();
  const child = Bun.spawn([process.execPath, join(root, 'src/main.ts'), 'serve', '--config', config(mode, discovered, port)], {
    env: { ...process.env, BENCH_SECRET: secret, FLUXGATE_LOG_LEVEL: 'info' },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  let log = '';
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
  })();
  try {
    const admin = async () => /"admin":"([\d.:]+)"/.exec(log)?.[1];
    let adminAddress: string | undefined;
    for (let attempt = 0; ; attempt++) {
      adminAddress ??= await admin();
      if (adminAddress && (await fetch(`http://${adminAddress}/readyz`).then((r) => r.status === 200, () => false))) break;
      if (attempt > 6000 || child.exitCode !== null) throw new Error(`${mode}: fluxgate did not become ready:\n${log.slice(-2000)}`);
      await Bun.sleep(10);
    }
    const listed = /"msg":"discovery listed","kind":"GitRepository","objects":(\d+),"ms":(\d+)/.exec(log);
    if (mode === 'discovery' && (!listed || Number(listed[1]) < N)) throw new Error(`discovery listed ${listed?.[1]} objects, expected ${N}`);
    Bun.gc(true);
    await Bun.sleep(1000);
    const rssMiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(await Bun.file(`/proc/${child.pid}/status`).text())![1]) / 1024;

    const hook = githubWebhook(secret, { repository: 'your-org/bench-app', branch: 'main' });
    const started = performance.now();
    const answer = await fetch(`http://127.0.0.1:${port}/hook/github`, { method: 'POST', headers: hook.headers, body: hook.body });
    if (answer.status !== 202) throw new Error(`${mode}: push answered ${answer.status} ${await answer.text()}`);
    const series = `fluxgate_reconcile_requests_total{kind="GitRepository",outcome="success"} `;
    for (;;) {
      const text = await (await fetch(`http://${adminAddress}/metrics`)).text();
      const line = text.split('\n').find((candidate) => candidate.startsWith(series));
      if (line && Number(line.slice(series.length)) >= D) break;
      if (performance.now() - started > 300_000) throw new Error(`${mode}: ${D} patches not done in 300 s`);
      await Bun.sleep(10);
    }
    return { ...(listed ? { indexMs: Number(listed[2]) } : {}), rssMiB, pushToLastMs: performance.now() - started };
  } finally {
    child.kill('SIGTERM');
    await child.exited;
  }
}

/** The same paginated LIST discovery does, by a bare client: the floor under the index build time. */
async function bareList(cluster: TestCluster, keep?: WatchedObject[]): Promise<number> {
  const client = createKubeClient({ server: cluster.server, caPem: cluster.caPem, token: async () => cluster.adminToken, timeoutMs: 30_000 });
  const started = performance.now();
  let count = 0;
  let next: string | undefined;
  do {
    const page = await client.api.request('GET', `/apis/${GIT}/gitrepositories?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ''}`, { wantBody: true });
    count += page.items.length;
    if (keep) for (const item of page.items) keep.push(watchedObject(item, GIT, 'GitRepository')!);
    next = page.metadata.continue || undefined;
  } while (next);
  if (count < N) throw new Error(`bare list saw ${count}`);
  return performance.now() - started;
}

/** Heap the index keeps for `objects` (full GC before and after). */
function indexHeapBytes(objects: WatchedObject[]): number {
  Bun.gc(true);
  const before = process.memoryUsage().heapUsed;
  const index = createDiscoveryIndex();
  index.replace(objects);
  Bun.gc(true);
  const after = process.memoryUsage().heapUsed;
  if (index.size !== objects.length) throw new Error('index lost objects');
  return after - before;
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

const cluster = await startTestCluster();
try {
  writeFileSync(join(dir.path, 'kubeconfig.yaml'), await Bun.file(cluster.kubeconfigPath).text());
  const discovered = await populate(cluster);
  const listed: WatchedObject[] = [];
  await bareList(cluster, listed); // warm-up: connection, JIT, and the API server's own caches
  const indexHeap = indexHeapBytes(listed);
  listed.length = 0;
  const results = { discovery: [] as Run[], configured: [] as Run[], bare: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved, so a noisy neighbour on this shared machine slows every variant alike.
    results.bare.push(await bareList(cluster));
    results.discovery.push(await run('discovery', discovered));
    results.configured.push(await run('configured', discovered));
    console.error(`round ${round + 1}: ${JSON.stringify({ bareListMs: Math.round(results.bare.at(-1)!), discovery: results.discovery.at(-1), configured: results.configured.at(-1) })}`);
  }
  const index = median(results.discovery.map((r) => r.indexMs!));
  const bare = median(results.bare);
  const rssOn = median(results.discovery.map((r) => r.rssMiB));
  const rssOff = median(results.configured.map((r) => r.rssMiB));
  const pushOn = median(results.discovery.map((r) => r.pushToLastMs));
  const pushOff = median(results.configured.map((r) => r.pushToLastMs));
  console.log(`discovery: ${N} GitRepositories watched (${NAMESPACES} namespaces), ${D} discovered by one push; real kube-apiserver, medians of ${ROUNDS} interleaved rounds`);
  console.log(`index build (list + index of ${N}):   ${index.toFixed(0).padStart(6)} ms   bare paginated LIST ${bare.toFixed(0)} ms   ratio ${(index / bare).toFixed(2)}`);
  console.log(`RSS once ready:                   ${rssOn.toFixed(1).padStart(6)} MiB  without discovery ${rssOff.toFixed(1)} MiB   ratio ${(rssOn / rssOff).toFixed(2)} (+${(rssOn - rssOff).toFixed(1)} MiB)`);
  console.log(`heap the index keeps:             ${(indexHeap / 1048576).toFixed(1).padStart(6)} MiB  (${(indexHeap / N).toFixed(0)} B per object)`);
  console.log(`push → last of ${D} patched:        ${pushOn.toFixed(0).padStart(6)} ms   same ${D} as configured targets ${pushOff.toFixed(0)} ms   ratio ${(pushOn / pushOff).toFixed(2)}`);
} finally {
  await cluster.stop();
  dir.remove();
}
