/**
 * Following benchmark against the REAL kube-apiserver the test suite builds: 100 GitRepositories, each used by 9
 * Kustomizations, and one target per repository — so 100 pushes (one per repository, each its own commit) make
 * 1,000 followed objects. Each round, interleaved, runs fluxgate twice as its own process (`bun src/main.ts serve`):
 *
 * - following: `feedback: { enabled: true, commitStatus: true }`, statuses to a fake GitHub API on loopback;
 * - baseline: the same config without `feedback:`.
 *
 * In both, this script sends the 100 pushes, waits for the 100 patches, then plays source-controller and
 * kustomize-controller: it writes each GitRepository's status (handled, fetched) and each Kustomization's (applied,
 * Ready), 16 writes at a time. It measures, with the baseline from the same round:
 * - RSS of fluxgate once ready and after the run (VmRSS, and the peak VmHWM), and its CPU time (utime + stime from
 *   /proc) over the run: pushes, patches and the 1,000 status writes;
 * - with following, the delay from each Kustomization's status write (its answer here) to the `success` commit
 *   status fluxgate posts for it arriving at the fake GitHub: p50, p99, max.
 *
 * usage: bun bench/feedback.ts [--rounds 2] [--repositories 100] [--users 9]
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { resourcePath, startTestCluster, type TestCluster } from '../test/support/kube-apiserver/cluster.ts';
import { deliveryBody } from '../test/support/webhooks.ts';
import { limited, percentile, printMachine, printTable, ratio, rssMiB, SECRET, startFluxgate, type Fluxgate } from './support.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, repositories: { type: 'string', default: '100' }, users: { type: 'string', default: '9' } } });
const ROUNDS = Number(values.rounds);
const REPOS = Number(values.repositories);
const USERS = Number(values.users);
const NS = 'bench-feedback';
const TOKEN = 'bench-status-token-3e9a';
const SOURCE = { apiVersion: 'source.toolkit.fluxcd.io/v1', plural: 'gitrepositories' };
const APPLIER = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', plural: 'kustomizations' };
const TICKS = 100; // clock ticks a second in /proc/<pid>/stat (USER_HZ)

const repo = (i: number) => `repo-${String(i).padStart(3, '0')}`;
const user = (i: number, j: number) => `${repo(i)}-k${j}`;

async function populate(cluster: TestCluster): Promise<void> {
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const create = limited(16, async (plural: string, object: Record<string, unknown>) => {
    const answer = await cluster.request('POST', resourcePath((object as { apiVersion: string }).apiVersion, plural, NS), object);
    if (answer.status !== 201 && answer.status !== 409) throw new Error(`create: ${answer.status}`);
  });
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < REPOS; i += 1) {
    jobs.push(create(SOURCE.plural, { apiVersion: SOURCE.apiVersion, kind: 'GitRepository', metadata: { name: repo(i), namespace: NS }, spec: { url: `https://github.com/your-org/${repo(i)}`, interval: '10m', ref: { branch: 'main' } } }));
    for (let j = 0; j < USERS; j += 1) {
      jobs.push(create(APPLIER.plural, { apiVersion: APPLIER.apiVersion, kind: 'Kustomization', metadata: { name: user(i, j), namespace: NS }, spec: { interval: '10m', path: `./k${j}`, prune: true, sourceRef: { kind: 'GitRepository', name: repo(i) } } }));
    }
  }
  await Promise.all(jobs);
}

/** A fake GitHub statuses API: the arrival time of each status, by context and state. */
function fakeGitHub(): { origin: string; arrivals: Map<string, number>; stop(): void } {
  const arrivals = new Map<string, number>();
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const at = performance.now();
      const body = (await request.json()) as { state: string; context: string };
      if (request.headers.get('authorization') !== `Bearer ${TOKEN}`) return new Response('{}', { status: 401 });
      arrivals.set(`${body.context}|${body.state}`, at);
      return Response.json({ id: arrivals.size }, { status: 201 });
    },
  });
  return { origin: `http://127.0.0.1:${server.port}`, arrivals, stop: () => server.stop(true) };
}

function config(cluster: TestCluster, address: string, statusApi?: string): string {
  return toYaml({
    server: { address, ...(statusApi ? { publicUrl: 'https://fluxgate.example.com' } : {}) },
    kubernetes: { mode: 'kubeconfig', kubeconfig: cluster.kubeconfigPath },
    state: { store: 'memory' },
    providers: [{ name: 'github', type: 'github', secret: { env: 'BENCH_SECRET' }, ...(statusApi ? { register: { token: { value: TOKEN }, apiUrl: statusApi } } : {}) }],
    targets: Array.from({ length: REPOS }, (_, i) => ({ name: repo(i), providers: ['github'], match: { repository: `your-org/${repo(i)}`, branches: ['main'] }, resources: [{ kind: 'GitRepository', name: repo(i), namespace: NS }] })),
    ...(statusApi ? { feedback: { enabled: true, commitStatus: true, timeout: '10m' } } : {}),
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

async function push(url: string, i: number, commit: string): Promise<void> {
  const body = deliveryBody('github/push-new-branch.json', { repository: `your-org/${repo(i)}`, branch: 'main', commit });
  const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomBytes(8).toString('hex'), 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` };
  const answer = await fetch(`${url}/hook/github`, { method: 'POST', headers, body });
  await answer.arrayBuffer();
  if (answer.status !== 202) throw new Error(`push ${i}: ${answer.status}`);
}

/** Waits until every GitRepository carries a requestedAt other than the one it had before; returns them. */
async function patched(cluster: TestCluster, before: Map<string, string | undefined>): Promise<Map<string, string>> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const list = await cluster.request('GET', resourcePath(SOURCE.apiVersion, SOURCE.plural, NS));
    const now = new Map<string, string>();
    for (const item of list.body.items as { metadata: { name: string; annotations?: Record<string, string> } }[]) {
      const value = item.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
      if (value !== undefined && value !== before.get(item.metadata.name)) now.set(item.metadata.name, value);
    }
    if (now.size === REPOS) return now;
    if (performance.now() > deadline) throw new Error(`only ${now.size} of ${REPOS} GitRepositories patched`);
    await Bun.sleep(50);
  }
}

async function requestedNow(cluster: TestCluster): Promise<Map<string, string | undefined>> {
  const list = await cluster.request('GET', resourcePath(SOURCE.apiVersion, SOURCE.plural, NS));
  return new Map((list.body.items as { metadata: { name: string; annotations?: Record<string, string> } }[]).map((item) => [item.metadata.name, item.metadata.annotations?.['reconcile.fluxcd.io/requestedAt']]));
}

interface Run {
  readyRss: number;
  rss: number;
  peak: number;
  cpu: number;
  /** Status write answered → fluxgate's success status arrived, per Kustomization (following only). */
  delays: number[];
}

async function run(cluster: TestCluster, following: boolean): Promise<Run> {
  const github = following ? fakeGitHub() : undefined;
  let gateway: Fluxgate | undefined;
  try {
    gateway = await startFluxgate((address) => config(cluster, address, github?.origin));
    await Bun.sleep(2000); // informers listed, quiet
    const readyRss = rssMiB(gateway.pid);
    const cpuBefore = cpuSeconds(gateway.pid);
    const before = await requestedNow(cluster);
    const commits = Array.from({ length: REPOS }, () => randomBytes(20).toString('hex'));
    await Promise.all(commits.map((commit, i) => push(gateway!.url, i, commit)));
    const values = await patched(cluster, before);
    const write = limited(16, async (type: typeof SOURCE, name: string, status: Record<string, unknown>) => {
      const answer = await cluster.request('PATCH', `${resourcePath(type.apiVersion, type.plural, NS, name)}/status`, { status }, 'application/merge-patch+json');
      if (answer.status !== 200) throw new Error(`status ${name}: ${answer.status}`);
      return performance.now();
    });
    const ready = (message: string) => [{ type: 'Ready', status: 'True', reason: 'Succeeded', message, lastTransitionTime: new Date().toISOString() }];
    const written = new Map<string, number>();
    await Promise.all(commits.map(async (commit, i) => {
      const revision = `main@sha1:${commit}`;
      await write(SOURCE, repo(i), { lastHandledReconcileAt: values.get(repo(i)), artifact: { revision, digest: `sha256:${commit}`, lastUpdateTime: new Date().toISOString() }, conditions: ready(`stored artifact for revision '${revision}'`) });
      await Promise.all(Array.from({ length: USERS }, async (_, j) => {
        written.set(`fluxgate/default/Kustomization/${NS}/${user(i, j)}`, await write(APPLIER, user(i, j), { lastAppliedRevision: revision, lastAttemptedRevision: revision, conditions: ready(`Applied revision: ${revision}`) }));
      }));
    }));
    const delays: number[] = [];
    if (github) {
      const deadline = performance.now() + 120_000;
      while ([...written.keys()].some((context) => !github.arrivals.has(`${context}|success`)) && performance.now() < deadline) await Bun.sleep(20);
      for (const [context, at] of written) {
        const arrived = github.arrivals.get(`${context}|success`);
        if (arrived !== undefined) delays.push(arrived - at);
      }
      if (delays.length < written.size) console.error(`only ${delays.length} of ${written.size} successes reported`);
    } else {
      await Bun.sleep(2000); // the same settling time as the slowest statuses, so CPU compares like with like
    }
    const result = { readyRss, rss: rssMiB(gateway.pid), peak: rssMiB(gateway.pid, 'VmHWM'), cpu: cpuSeconds(gateway.pid) - cpuBefore, delays };
    // The memory store's start-up warning is expected here.
    const problems = (await gateway.problems()).split('; ').filter((problem) => !problem.includes('state.store is memory')).join('; ');
    if (problems !== '' && problems !== 'none') console.error(`${following ? 'following' : 'baseline'}: ${problems}`);
    return result;
  } finally {
    await gateway?.stop();
    github?.stop();
  }
}

printMachine(`bench/feedback.ts: ${REPOS} pushes, ${REPOS * (USERS + 1)} followed objects (${REPOS} GitRepositories × ${USERS} Kustomizations), real kube-apiserver`);
const cluster = await startTestCluster();
try {
  await populate(cluster);
  const rows: (string | number)[][] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    // Interleaved, the baseline first in odd rounds, so neither always runs on a warmer API server.
    const order = round % 2 === 1 ? [false, true] : [true, false];
    const results = new Map<boolean, Run>();
    for (const following of order) results.set(following, await run(cluster, following));
    const on = results.get(true)!;
    const off = results.get(false)!;
    rows.push(
      [`round ${round}: RSS ready`, `${off.readyRss.toFixed(1)} MiB`, `${on.readyRss.toFixed(1)} MiB`, ratio(on.readyRss, off.readyRss)],
      [`round ${round}: RSS after`, `${off.rss.toFixed(1)} MiB`, `${on.rss.toFixed(1)} MiB`, ratio(on.rss, off.rss)],
      [`round ${round}: RSS peak`, `${off.peak.toFixed(1)} MiB`, `${on.peak.toFixed(1)} MiB`, ratio(on.peak, off.peak)],
      [`round ${round}: CPU`, `${off.cpu.toFixed(2)} s`, `${on.cpu.toFixed(2)} s`, ratio(on.cpu, off.cpu)],
      [`round ${round}: status write → report p50`, '', `${percentile(on.delays, 50).toFixed(1)} ms`, ''],
      [`round ${round}: status write → report p99`, '', `${percentile(on.delays, 99).toFixed(1)} ms`, ''],
      [`round ${round}: status write → report max`, '', `${Math.max(...on.delays).toFixed(1)} ms`, `${on.delays.length} reports`],
    );
  }
  printTable(['', 'without following', 'following', 'ratio'], rows);
} finally {
  await cluster.stop();
}
