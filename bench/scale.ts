/**
 * Scale benchmark: does fluxgate slow down as the config grows? Configs with 1, 1,000 and 10,000 targets, each
 * target its own repository with branch and path filters, in dry-run (no cluster: only fluxgate is measured).
 * For each: time from spawning `serve` to its first `/healthz` 200, wall time of `fluxgate validate`, the webhook
 * answer latency p50/p99 of sequential signed pushes to the last target's repository (answered 202) and to a
 * repository no target watches (answered 200), then the RSS after `--idle` seconds without requests, and the peak
 * RSS of the whole run (VmHWM; start-up garbage from parsing a large config is collected only after a while, so
 * an RSS read just after start says more about the garbage collector than about what fluxgate keeps).
 * Baseline: the 1-target config, in the same run; sizes are interleaved within each round and each figure is
 * the median over the rounds.
 *
 * usage: bun bench/scale.ts [--sizes 1,1000,10000] [--rounds 3] [--pushes 1000] [--idle 20]
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../test/support/temp-dir.ts';
import { githubProvider, githubPush, ms, percentile, printMachine, printTable, ratio, root, rssMiB, SECRET, startFluxgate, type Fluxgate } from './support.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1,1000,10000' }, rounds: { type: 'string', default: '3' }, pushes: { type: 'string', default: '1000' }, idle: { type: 'string', default: '20' } } });
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
const pushes = Number(values.pushes);
const idleSeconds = Number(values.idle);
const dir = tempDir('fluxgate-scale-');

printMachine(`scale: configs of ${sizes.join(' / ')} targets in dry-run, ${rounds} rounds (median), ${pushes} sequential pushes per kind`);

function config(size: number, address: string): string {
  const targets = Array.from(
    { length: size },
    (_, index) =>
      `  - { name: t-${index}, providers: [github], match: { repository: bench/repo-${index}, branches: [main, "release/*"], paths: [README.md, "docs/**"] }, resources: [{ kind: GitRepository, name: repo-${index}, namespace: flux-system }] }`,
  );
  return `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\nkubernetes: { mode: dry-run }\n${githubProvider}\ntargets:\n${targets.join('\n')}\n`;
}

async function validateMs(path: string): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn([process.execPath, join(root, 'src/main.ts'), 'validate', path], { env: { ...process.env, BENCH_SECRET: SECRET }, stdout: 'pipe', stderr: 'pipe' });
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`validate failed (${code}): ${stderr.slice(0, 500)}`);
  return performance.now() - started;
}

/** Answer latencies of `pushes` sequential sends (after 100 not counted), each expected to get `status`. */
async function answerLatencies(gateway: Fluxgate, repository: string, status: number): Promise<number[]> {
  const push = githubPush(repository);
  const latencies: number[] = [];
  for (let index = 0; index < pushes + 100; index += 1) {
    const answer = await push.send(`${gateway.url}/hook/github`);
    if (answer.status !== status) throw new Error(`push to ${repository} answered ${answer.status}, expected ${status}`);
    if (index >= 100) latencies.push(answer.answeredAt - answer.sentAt);
  }
  return latencies;
}

interface Sample {
  startMs: number;
  validateMs: number;
  rss: number;
  peak: number;
  matched: [number, number];
  unwatched: [number, number];
}

const samples = new Map<number, Sample[]>(sizes.map((size) => [size, []]));
const bytes = new Map<number, number>();
try {
  for (let round = 0; round < rounds; round += 1) {
    for (const size of sizes) {
      const path = join(dir.path, `targets-${size}.yaml`);
      writeFileSync(path, config(size, '127.0.0.1:9'));
      bytes.set(size, statSync(path).size);
      const validate = await validateMs(path);
      const gateway = await startFluxgate((address) => config(size, address));
      try {
        const matched = await answerLatencies(gateway, `bench/repo-${size - 1}`, 202);
        const unwatched = await answerLatencies(gateway, 'bench/nobody-watches-this', 200);
        await Bun.sleep(idleSeconds * 1000);
        samples.get(size)!.push({
          startMs: gateway.startMs,
          validateMs: validate,
          rss: rssMiB(gateway.pid),
          peak: rssMiB(gateway.pid, 'VmHWM'),
          matched: [percentile(matched, 50), percentile(matched, 99)],
          unwatched: [percentile(unwatched, 50), percentile(unwatched, 99)],
        });
      } finally {
        await gateway.stop();
      }
    }
  }
} finally {
  dir.remove();
}

const median = (size: number, pick: (sample: Sample) => number) => percentile(samples.get(size)!.map(pick), 50);
const baseline = sizes[0]!;
const row = (what: string, pick: (sample: Sample) => number, format: (value: number) => string) => [
  what,
  format(median(baseline, pick)),
  ...sizes.slice(1).flatMap((size) => [format(median(size, pick)), ratio(median(size, pick), median(baseline, pick))]),
];
const mib = (value: number) => `${value.toFixed(1)} MiB`;
printTable(
  ['', `${baseline} target(s)`, ...sizes.slice(1).flatMap((size) => [`${size} targets`, 'ratio'])],
  [
    row('start → first /healthz 200', (s) => s.startMs, ms),
    row('fluxgate validate (wall)', (s) => s.validateMs, ms),
    row(`RSS after ${idleSeconds} s idle`, (s) => s.rss, mib),
    row('peak RSS (VmHWM)', (s) => s.peak, mib),
    row('push, matched (202) p50', (s) => s.matched[0], ms),
    row('push, matched (202) p99', (s) => s.matched[1], ms),
    row('push, unwatched (200) p50', (s) => s.unwatched[0], ms),
    row('push, unwatched (200) p99', (s) => s.unwatched[1], ms),
  ],
);
console.log(`\nconfig sizes: ${sizes.map((size) => `${size} targets ${(bytes.get(size)! / 1024).toFixed(0)} KiB`).join(', ')}`);
