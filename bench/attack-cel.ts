/**
 * A Receiver's resourceFilter under attack, and its normal cost, before and after in one run.
 *
 * 1. The attack: a `generic` Receiver (its path is its only secret) whose resourceFilter is
 *    `req.a.split('').join(req.b).size() > 0`, over 3 labelled GitRepositories of the real kube-apiserver the
 *    test suite builds, gets one delivery with a 1,000-character `a` and a 1 MB `b`. For each gateway process
 *    (the one of `--main`, e.g. an older checkout, then this checkout's): how long `/healthz` on the webhook port
 *    took at worst while the delivery was being decided (probed one after the other), how long until the
 *    delivery log showed the outcome, what it says, how many objects were patched, and the process's peak RSS
 *    (VmRSS every 10 ms, and VmHWM).
 * 2. The normal cost of a small filter (`req.component == res.metadata.name`) for one delivery over 10 objects,
 *    in this process: the same prepared expression evaluated on this thread, object by object (what fluxgate
 *    did before the worker), against the worker's round trip (one job per delivery); median and p99 over 2,000
 *    deliveries, interleaved.
 *
 * usage: bun bench/attack-cel.ts [--main path/to/other/src/main.ts] [--skip-attack]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { createCelEvaluator } from '../src/receivers/cel-evaluator.ts';
import { celEnvironments, createFilterCompiler, largestCollection, prepareFilter, runPrepared } from '../src/receivers/cel-filter.ts';
import { systemClock } from '../src/core/clock.ts';
import { waitForLogLine } from '../test/support/cli.ts';
import { tempDir } from '../test/support/temp-dir.ts';
import type { TestCluster } from '../test/support/kube-apiserver/cluster.ts';
import { GIT_REPOSITORY, REQUESTED_AT, createGitRepositories, withCluster } from './api-server.ts';
import { percentile, printMachine, printTable } from './support.ts';

const { values } = parseArgs({ options: { main: { type: 'string' }, 'skip-attack': { type: 'boolean', default: false } } });
const currentMain = join(import.meta.dir, '..', 'src', 'main.ts');
const ATTACK = "req.a.split('').join(req.b).size() > 0";
const OBJECTS = ['app-0', 'app-1', 'app-2'];

function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface AttackRow {
  main: string;
  idleMiB: number;
  peakMiB: number;
  hwmMiB: number;
  worstHealthzMs: number;
  probes: number;
  decidedMs: number;
  outcome: string;
  patched: number;
}

async function startGateway(main: string, kubeconfig: string, namespace: string, dir: string): Promise<{ url: string; adminUrl: string; pid: number; stop(): Promise<void> }> {
  const configPath = join(dir, `fluxgate-${createHash('sha256').update(main).digest('hex').slice(0, 6)}.yaml`);
  await Bun.write(configPath, `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }\nkubernetes: { mode: kubeconfig, kubeconfig: ${kubeconfig} }\nfluxReceivers: { enabled: true, namespaces: [${namespace}] }\n`);
  const child = Bun.spawn(['setpriv', '--pdeathsig', 'TERM', '--', process.execPath, main, 'serve', '--config', configPath], { env: { ...process.env, FLUXGATE_LOG_LEVEL: 'info' }, stdout: 'ignore', stderr: 'pipe' });
  const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening');
  void (async () => {
    const reader = child.stderr.getReader();
    while (!(await reader.read()).done);
  })().catch(() => {});
  return {
    url: `http://${listening.address}`,
    adminUrl: `http://${listening.admin}`,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}

async function patchedCount(cluster: TestCluster, namespace: string): Promise<number> {
  const listed = await cluster.request('GET', `/apis/${GIT_REPOSITORY.apiVersion}/namespaces/${namespace}/${GIT_REPOSITORY.plural}`);
  return (listed.body.items as { metadata: { annotations?: Record<string, string> } }[]).filter((item) => item.metadata.annotations?.[REQUESTED_AT] !== undefined).length;
}

/** One gateway process, one namespace with the Receiver and its objects, one hostile delivery. */
async function attack(cluster: TestCluster, main: string, kubeconfig: string, dir: string, index: number): Promise<AttackRow> {
  const namespace = `cel-attack-${index}-${Date.now().toString(36)}`;
  const token = `cel-attack-token-${index}`;
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'receiver-token', namespace }, data: { token: Buffer.from(token).toString('base64') } });
  await createGitRepositories(cluster, namespace, OBJECTS, { team: 'web' });
  await cluster.apply({
    apiVersion: 'notification.toolkit.fluxcd.io/v1',
    kind: 'Receiver',
    metadata: { name: 'ci', namespace },
    spec: { type: 'generic', secretRef: { name: 'receiver-token' }, resources: [{ kind: 'GitRepository', name: '*', matchLabels: { team: 'web' } }], resourceFilter: ATTACK },
  });
  const gateway = await startGateway(main, kubeconfig, namespace, dir);
  try {
    const hook = `${gateway.url}/hook/${createHash('sha256').update(`${token}ci${namespace}`).digest('hex')}`;
    while ((await fetch(hook)).status !== 405) await Bun.sleep(50); // until the Receiver is served
    await fetch(`${gateway.url}/healthz`);
    await Bun.sleep(300);
    const idleMiB = statusMiB(gateway.pid, 'VmRSS');
    let peakMiB = idleMiB;
    const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, statusMiB(gateway.pid, 'VmRSS') || 0)), 10);
    const body = JSON.stringify({ a: 'x'.repeat(1000), b: 'y'.repeat(1_000_000) });
    const sentAt = performance.now();
    const answer = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (answer.status !== 202) throw new Error(`the delivery was answered ${answer.status}`);
    let worstHealthzMs = 0;
    let probes = 0;
    let outcome = '';
    while (performance.now() - sentAt < 300_000) {
      const probeAt = performance.now();
      await fetch(`${gateway.url}/healthz`);
      worstHealthzMs = Math.max(worstHealthzMs, performance.now() - probeAt);
      probes += 1;
      const log = JSON.stringify(await (await fetch(`${gateway.adminUrl}/api/deliveries`)).json());
      const decided = log.match(/"detail":"((?:selected \d+|the filter could not decide)[^"]*)"/);
      if (decided) {
        outcome = decided[1]!;
        break;
      }
      await Bun.sleep(10);
    }
    const decidedMs = performance.now() - sentAt;
    await Bun.sleep(500); // patches of accepted objects land
    clearInterval(sampler);
    return { main, idleMiB, peakMiB, hwmMiB: statusMiB(gateway.pid, 'VmHWM'), worstHealthzMs, probes, decidedMs, outcome: outcome || 'not decided within 300 s', patched: await patchedCount(cluster, namespace) };
  } finally {
    await gateway.stop();
  }
}

/** The filter evaluated on this thread, object by object, as before the worker. */
function inThreadDelivery(expression: string): (req: Record<string, unknown>, objects: Record<string, unknown>[]) => Promise<boolean[]> {
  const prepared = prepareFilter(celEnvironments(), expression, false);
  if ('problem' in prepared) throw new Error(prepared.problem);
  return async (req, objects) => {
    const requestSize = largestCollection(req);
    return objects.map((object) => {
      const result = runPrepared(prepared, { res: object, req }, requestSize);
      return 'value' in result && result.value === true;
    });
  };
}

async function normalCost(): Promise<void> {
  const objects = Array.from({ length: 10 }, (_, index) => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: `app-${index}`, namespace: 'apps', labels: { team: 'web' } } }));
  const req = { component: 'app-3', ref: 'refs/heads/main', commits: [{ id: 'a'.repeat(40), message: 'fix' }] };
  const filter = createFilterCompiler().compile('req.component == res.metadata.name', { claims: false });
  if ('problem' in filter) throw new Error(filter.problem);
  const evaluator = createCelEvaluator({ clock: systemClock });
  const current = async () => {
    const answer = await evaluator.filter({ req, lists: [{ filters: [filter], objects }], stepsSpent: 0 });
    if ('failed' in answer) throw new Error(answer.failed);
    return answer.verdicts[0]!.map((verdict) => verdict === true);
  };
  const baseline = inThreadDelivery('req.component == res.metadata.name');
  const rows: (string | number)[][] = [];
  const timings: Record<string, number[]> = { baseline: [], current: [] };
  for (let round = 0; round < 2_200; round += 1) {
    for (const [name, run] of [['baseline', () => baseline(req, objects)], ['current', current]] as const) {
      const startedAt = performance.now();
      const verdicts = await run();
      if (verdicts.filter(Boolean).length !== 1) throw new Error(`${name}: wrong verdicts`);
      if (round >= 200) timings[name]!.push(performance.now() - startedAt); // the first 200: warm-up
    }
  }
  evaluator.close();
  for (const name of ['baseline', 'current']) {
    const values = timings[name]!;
    rows.push([name === 'baseline' ? 'on this thread, object by object (before)' : 'one job in the worker (round trip)', `${(percentile(values, 50) * 1000).toFixed(0)} µs`, `${(percentile(values, 99) * 1000).toFixed(0)} µs`]);
  }
  console.log('\nnormal cost: one delivery of a small filter over 10 objects (2,000 deliveries after 200 warm-up, in this process)\n');
  printTable(['evaluation', 'median', 'p99'], rows);
}

printMachine('fluxgate bench: a resourceFilter under attack (join of 1,000 × 1 MB), and its normal cost');
if (!values['skip-attack']) {
  const dir = tempDir('fluxgate-attack-cel-');
  const rows = await withCluster(async (cluster) => {
    const kubeconfig = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'bench' });
    const results: AttackRow[] = [];
    for (const [index, main] of [...(values.main ? [values.main] : []), currentMain].entries()) results.push(await attack(cluster, main, kubeconfig, dir.path, index));
    return results;
  }).finally(() => dir.remove());
  console.log(`attack: generic Receiver, resourceFilter ${ATTACK}, 3 objects, one delivery with a = 1,000 characters, b = 1 MB\n`);
  printTable(
    ['gateway', 'idle MiB', 'peak MiB', 'HWM MiB', 'worst /healthz', 'probes', 'decided after', 'patched'],
    rows.map((row) => [row.main, row.idleMiB.toFixed(0), row.peakMiB.toFixed(0), row.hwmMiB.toFixed(0), `${row.worstHealthzMs.toFixed(0)} ms`, row.probes, `${(row.decidedMs / 1000).toFixed(2)} s`, `${row.patched}/3`]),
  );
  for (const row of rows) console.log(`  ${row.main}: ${row.outcome}`);
}
await normalCost();
process.exit(0);
