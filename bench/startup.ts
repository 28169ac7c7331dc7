/**
 * Cold start and idle memory of the compiled binary, against a compiled bare Bun.serve (bench/bare-server.ts)
 * built the same way in the same run: the time from spawn to the first 200 from `/healthz` (median of N
 * alternating runs) and the resident memory 2 s after that, while idle. A third binary, the bare server plus the
 * libraries fluxgate loads before its first answer (bench/bare-libraries.ts), is the floor no code of fluxgate's
 * can go below. stdout and stderr are pipes, as a container runtime or systemd's journal gives them.
 *
 * With `--baseline BINARY` (e.g. another checkout's `scripts/build.ts` output), that binary runs in the same
 * alternating rounds too, and the difference is printed.
 *
 *   bun bench/startup.ts [--runs 10] [--binary dist/fluxgate] [--baseline ../other/dist/fluxgate]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, rssMiB } from './support.ts';

const root = resolve(import.meta.dir, '..');
const { values } = parseArgs({ args: Bun.argv.slice(2), options: { runs: { type: 'string', default: '10' }, binary: { type: 'string' }, baseline: { type: 'string' } } });
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'fluxgate-startup-'));

function compile(entry: string, outfile: string): void {
  const built = Bun.spawnSync([process.execPath, 'build', entry, '--compile', '--bytecode', '--format=esm', '--outfile', outfile], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
  if (built.exitCode !== 0) throw new Error(`build of ${entry} failed: ${built.stderr.toString()}`);
}

/** Spawns `command` (which listens on `port`), times the first 200 from /healthz, then samples idle RSS. */
async function once(command: (port: number) => string[], env: Record<string, string>): Promise<{ startMs: number; rssMiB: number }> {
  const port = freePort();
  const started = performance.now();
  const child = Bun.spawn(command(port), { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, ...env }, stdout: 'pipe', stderr: 'pipe' });
  try {
    let startMs = 0;
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (response.status === 200 || response.status === 401) {
          startMs = performance.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 10_000) throw new Error(`${command(port).join(' ')} did not answer within 10 s`);
      await Bun.sleep(1);
    }
    await Bun.sleep(2_000);
    return { startMs, rssMiB: rssMiB(child.pid) };
  } finally {
    child.kill();
    await child.exited;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const fluxgate = values.binary ? resolve(values.binary) : join(work, 'fluxgate');
  if (!values.binary) {
    // The way it ships: scripts/build.ts (bytecode, code splitting, the commit stamped).
    const built = Bun.spawnSync([process.execPath, join(root, 'scripts', 'build.ts'), '--outdir', work], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
    if (built.exitCode !== 0) throw new Error(`scripts/build.ts failed: ${built.stderr.toString()}`);
  }
  const bare = join(work, 'bare');
  compile(join(root, 'bench', 'bare-server.ts'), bare);
  const libraries = join(work, 'bare-libraries');
  compile(join(root, 'bench', 'bare-libraries.ts'), libraries);

  const results = { fluxgate: [] as Sample[], bare: [] as Sample[], libraries: [] as Sample[], baseline: [] as Sample[] };
  for (let run = 0; run < runs; run += 1) {
    // Alternate, so a drift of the machine's speed touches both alike.
    results.fluxgate.push(await once((port) => writeConfigAndServe(fluxgate, port), { GH: 'startup-bench-secret' }));
    results.bare.push(await once((port) => [bare, String(port), 'secret'], {}));
    results.libraries.push(await once((port) => [libraries, String(port), 'secret'], {}));
    if (values.baseline) results.baseline.push(await once((port) => writeConfigAndServe(resolve(values.baseline!), port), { GH: 'startup-bench-secret' }));
  }
  const row = (name: string, list: { startMs: number; rssMiB: number }[]) => `| ${name} | ${median(list.map((item) => item.startMs)).toFixed(0)} ms (${Math.min(...list.map((item) => item.startMs)).toFixed(0)}–${Math.max(...list.map((item) => item.startMs)).toFixed(0)}) | ${median(list.map((item) => item.rssMiB)).toFixed(1)} MiB |`;
  console.log(`compiled cold start to the first /healthz 200 and idle RSS, median of ${runs} alternating runs`);
  console.log('| binary | start (min–max) | idle RSS |\n|---|---|---|');
  console.log(row('fluxgate serve (dry-run, 1 provider)', results.fluxgate));
  console.log(row('bare Bun.serve + HMAC (baseline)', results.bare));
  console.log(row("bare + fluxgate's start-up libraries", results.libraries));
  const ratio = (of: keyof typeof results, key: 'startMs' | 'rssMiB') => (median(results[of].map((item) => item[key])) / median(results.bare.map((item) => item[key]))).toFixed(2);
  console.log(`ratio to bare: fluxgate start ${ratio('fluxgate', 'startMs')}, RSS ${ratio('fluxgate', 'rssMiB')}; libraries alone start ${ratio('libraries', 'startMs')}, RSS ${ratio('libraries', 'rssMiB')}`);
  if (values.baseline) {
    console.log(row(`baseline (${values.baseline})`, results.baseline));
    const difference = (key: 'startMs' | 'rssMiB') => median(results.fluxgate.map((item) => item[key])) - median(results.baseline.map((item) => item[key]));
    console.log(`fluxgate - baseline: start ${difference('startMs').toFixed(1)} ms, idle RSS ${difference('rssMiB').toFixed(1)} MiB`);
  }
}

type Sample = { startMs: number; rssMiB: number };

/** fluxgate listens where its config says: one config per port. */
function writeConfigAndServe(binary: string, port: number): string[] {
  const path = join(work, `fluxgate-${port}.yaml`);
  writeFileSync(path, `server: { address: 127.0.0.1:${port}, adminAddress: 127.0.0.1:0 }\nkubernetes: { mode: dry-run }\nproviders:\n  - { name: github, type: github, secret: { env: GH } }\ntargets: []\n`);
  return [binary, 'serve', '--config', path];
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
