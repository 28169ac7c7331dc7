/**
 * Attacks through what fluxgate reads rather than what it is sent, each run against this checkout ("after") and,
 * with --before, another checkout's src/main.ts ("before"), in the same run, each variant its own process:
 *
 * - semver: ten discovered GitRepositories (real kube-apiserver) whose `spec.ref.semver` is a 370 KB range of
 *   30,000 `||` alternatives (`1.0.0 || 1.0.1 || …`); a signed push of a tag none of them holds: how long its
 *   answer takes, and how long a `/healthz` sent 5 ms after it waits (medians of the pushes);
 * - zero: a secret file swapped for a symlink to /dev/zero, then SIGHUP: peak RSS over 10 s (the process is
 *   killed past 3 GiB), whether both ports kept answering `/healthz` (2 s timeout each), the reload's outcome;
 * - fifo: the config swapped for a symlink to a FIFO nobody writes, then SIGHUP: whether a signed webhook is
 *   answered and the reload's outcome;
 * - plugin: `while (true) {}` dropped into pluginsDir (the file watch sees it), then SIGHUP: both ports over 10 s,
 *   CPU used, the reload's outcome, and whether SIGTERM still ends the process within 5 s.
 *
 * usage: bun bench/attack-files.ts [--before /path/to/other/src/main.ts] [--only semver,zero,fifo,plugin] [--pushes 5]
 */
import { chmodSync, mkdirSync, openSync, readFileSync, renameSync, symlinkSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { startTestCluster, type TestCluster } from '../test/support/kube-apiserver/cluster.ts';
import { tempDir } from '../test/support/temp-dir.ts';
import { githubWebhook } from '../test/support/webhooks.ts';

const { values } = parseArgs({ options: { before: { type: 'string' }, only: { type: 'string' }, pushes: { type: 'string', default: '5' } } });
const variants: [string, string][] = [...(values.before ? [['before', values.before] as [string, string]] : []), ['after', join(import.meta.dir, '..', 'src', 'main.ts')]];
const only = values.only ? new Set(values.only.split(',')) : undefined;
const SECRET = 'bench-attack-files-secret-5e2a';
const GiB = 1024 * 1024 * 1024;
const work = tempDir('fluxgate-attack-files-');

interface Process {
  url: string;
  adminUrl: string;
  pid: number;
  /** The log so far, as JSON lines. */
  lines(): Record<string, any>[];
  exited(): boolean;
  kill(signal: NodeJS.Signals): void;
  /** Waits up to `ms` for the exit; the code, or undefined when it is still running. */
  waitExit(ms: number): Promise<number | undefined>;
}

async function start(mainScript: string, configPath: string, env: Record<string, string> = {}): Promise<Process> {
  const logPath = `${configPath}.log`;
  const log = openSync(logPath, 'w');
  // setpriv ends the gateway with this script, however it ends.
  const child = Bun.spawn(['setpriv', '--pdeathsig', 'KILL', '--', process.execPath, mainScript, 'serve', '--config', configPath], {
    env: { PATH: process.env.PATH ?? '', HOME: work.path, BENCH_SECRET: SECRET, FLUXGATE_LOG_LEVEL: 'info', ...env },
    stdout: 'ignore',
    stderr: log,
  });
  closeSync(log);
  const lines = () =>
    readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>);
  let listening: Record<string, any> | undefined;
  for (let waited = 0; !(listening = lines().find((line) => line.msg === 'fluxgate listening')); waited += 20) {
    if (child.exitCode !== null || waited > 60_000) throw new Error(`${mainScript} did not start:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
    await Bun.sleep(20);
  }
  return {
    url: `http://${listening.address}`,
    adminUrl: `http://${listening.admin}`,
    pid: child.pid,
    lines,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    kill: (signal) => child.kill(signal),
    waitExit: (ms) => Promise.race([child.exited, Bun.sleep(ms).then(() => undefined)]),
  };
}

/** Milliseconds until `url` answers, or undefined past `timeoutMs`. */
async function timed(url: string, init: RequestInit = {}, timeoutMs = 2000): Promise<{ ms?: number; status?: number }> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return { ms: performance.now() - started, status: response.status };
  } catch {
    return {};
  }
}

function rssBytes(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  } catch {
    return NaN;
  }
}

function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Replaces `path` by a symlink to `target`, in one rename, as a volume swap would. */
function swapForSymlink(path: string, target: string): void {
  symlinkSync(target, `${path}.swap`);
  renameSync(`${path}.swap`, path);
}

/** The reload's outcome from the log: `refused: <first problem>`, `reloaded`, or `no answer`. */
function reloadOutcome(gateway: Process, after: number): string {
  const line = gateway.lines().slice(after).find((candidate) => candidate.msg === 'config reload refused: the running config keeps serving' || candidate.msg === 'config reloaded');
  if (!line) return 'no answer';
  return line.msg === 'config reloaded' ? 'reloaded' : `refused: ${String(line.problems?.[0] ?? '').replace(/^\S+ /, '').replaceAll(`${work.path}/`, '')}`;
}

/** For `ms`: peak RSS, /healthz on both ports every 500 ms, CPU used; stops early when the process passes 3 GiB (then killed). */
async function watchFor(gateway: Process, ms: number): Promise<{ peakMiB: number; answered: string; cpu: number; killed: boolean }> {
  const cpu0 = cpuSeconds(gateway.pid);
  let peak = rssBytes(gateway.pid);
  let answered = 0;
  let asked = 0;
  let killed = false;
  const deadline = performance.now() + ms;
  const sampler = (async () => {
    while (performance.now() < deadline && !killed) {
      peak = Math.max(peak, rssBytes(gateway.pid) || 0);
      if (peak > 3 * GiB) {
        killed = true;
        gateway.kill('SIGKILL');
      }
      await Bun.sleep(20);
    }
  })();
  while (performance.now() < deadline && !killed) {
    const [a, b] = await Promise.all([timed(`${gateway.url}/healthz`), timed(`${gateway.adminUrl}/healthz`)]);
    asked += 2;
    answered += (a.status === 200 ? 1 : 0) + (b.status === 200 ? 1 : 0);
    await Bun.sleep(500);
  }
  await sampler;
  return { peakMiB: peak / 1024 / 1024, answered: `${answered}/${asked}`, cpu: cpuSeconds(gateway.pid) - cpu0, killed };
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

function configFile(name: string, config: Record<string, unknown>): string {
  const dir = join(work.path, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'fluxgate.yaml');
  writeFileSync(path, toYaml({ server: { address: '127.0.0.1:0', adminAddress: '127.0.0.1:0' }, ...config }));
  return path;
}

// ---- scenarios ---------------------------------------------------------------------------------------------

async function semver(cluster: TestCluster, variant: string, mainScript: string): Promise<string> {
  const kubeconfig = join(work.path, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, readFileSync(cluster.kubeconfigPath, 'utf8'));
  const path = configFile(`semver-${variant}`, {
    kubernetes: { mode: 'kubeconfig', kubeconfig },
    providers: [{ name: 'github', type: 'github', secret: { env: 'BENCH_SECRET' } }],
    discovery: { enabled: true, kinds: ['GitRepository'] },
    reconcile: { debounce: '100ms' },
  });
  const gateway = await start(mainScript, path);
  try {
    while ((await timed(`${gateway.adminUrl}/readyz`, {}, 5000)).status !== 200) await Bun.sleep(50);
    const answers: number[] = [];
    const health: number[] = [];
    const statuses = new Set<number>();
    for (let push = 0; push < Number(values.pushes); push++) {
      const hook = githubWebhook(SECRET, { repository: 'your-org/bench-semver', tag: `v2.${push}.0` });
      const answer = timed(`${gateway.url}/hook/github`, { method: 'POST', headers: hook.headers, body: hook.body }, 60_000);
      await Bun.sleep(5);
      const probe = await timed(`${gateway.url}/healthz`, {}, 60_000);
      const settled = await answer;
      answers.push(settled.ms ?? NaN);
      health.push(probe.ms ?? NaN);
      statuses.add(settled.status ?? 0);
    }
    return `tag push answered ${median(answers).toFixed(0)} ms (${[...statuses].join('/')}), /healthz sent 5 ms after it ${median(health).toFixed(0)} ms; medians of ${values.pushes}`;
  } finally {
    gateway.kill('SIGKILL');
  }
}

async function zero(variant: string, mainScript: string): Promise<string> {
  const path = configFile(`zero-${variant}`, { kubernetes: { mode: 'dry-run' }, providers: [{ name: 'github', type: 'github', secret: { file: 'secret' } }] });
  const secretPath = join(path, '..', 'secret');
  writeFileSync(secretPath, SECRET);
  const gateway = await start(mainScript, path);
  try {
    const idle = rssBytes(gateway.pid) / 1024 / 1024;
    const mark = gateway.lines().length;
    swapForSymlink(secretPath, '/dev/zero');
    gateway.kill('SIGHUP');
    const seen = await watchFor(gateway, 10_000);
    return `RSS ${idle.toFixed(0)} → peak ${seen.peakMiB.toFixed(0)} MiB${seen.killed ? ' (killed past 3 GiB)' : ''}, /healthz answered ${seen.answered}, reload ${seen.killed ? 'never answered' : reloadOutcome(gateway, mark)}`;
  } finally {
    gateway.kill('SIGKILL');
  }
}

async function fifo(variant: string, mainScript: string): Promise<string> {
  const path = configFile(`fifo-${variant}`, { kubernetes: { mode: 'dry-run' }, providers: [{ name: 'github', type: 'github', secret: { env: 'BENCH_SECRET' } }], targets: [{ name: 'app', providers: ['github'], resources: [{ kind: 'GitRepository', name: 'app', namespace: 'flux-system' }] }] });
  const gateway = await start(mainScript, path);
  try {
    const pipe = join(path, '..', 'pipe');
    if (Bun.spawnSync(['mkfifo', pipe]).exitCode !== 0) throw new Error('mkfifo failed');
    const mark = gateway.lines().length;
    swapForSymlink(path, pipe);
    gateway.kill('SIGHUP');
    await Bun.sleep(1000);
    const hook = githubWebhook(SECRET, { repository: 'your-org/app', branch: 'main' });
    const answer = await timed(`${gateway.url}/hook/github`, { method: 'POST', headers: hook.headers, body: hook.body }, 5000);
    return `webhook after SIGHUP: ${answer.status ?? 'no answer in 5 s'}, reload ${reloadOutcome(gateway, mark)}`;
  } finally {
    gateway.kill('SIGKILL');
  }
}

async function plugin(variant: string, mainScript: string): Promise<string> {
  const path = configFile(`plugin-${variant}`, {
    kubernetes: { mode: 'dry-run' },
    pluginsDir: 'plugins',
    providers: [{ name: 'acme', type: 'acme', secret: { env: 'BENCH_SECRET' } }],
  });
  const plugins = join(path, '..', 'plugins');
  mkdirSync(plugins, { mode: 0o700 });
  writeFileSync(join(plugins, 'acme.ts'), readFileSync(join(import.meta.dir, '..', 'docs', 'examples', 'acme.ts'), 'utf8'));
  chmodSync(join(plugins, 'acme.ts'), 0o644);
  const gateway = await start(mainScript, path);
  try {
    const mark = gateway.lines().length;
    writeFileSync(join(plugins, 'loop.ts'), 'while (true) {}\nexport default () => ({});\n');
    chmodSync(join(plugins, 'loop.ts'), 0o644);
    // The file watch settles after 250 ms; then the signal an operator would send.
    await Bun.sleep(1000);
    gateway.kill('SIGHUP');
    const seen = await watchFor(gateway, 10_000);
    gateway.kill('SIGTERM');
    const code = await gateway.waitExit(5000);
    return `/healthz answered ${seen.answered}, CPU ${seen.cpu.toFixed(1)} s in 10 s, reload ${reloadOutcome(gateway, mark)}, SIGTERM ${code === undefined ? 'ignored for 5 s' : `exit ${code}`}`;
  } finally {
    gateway.kill('SIGKILL');
  }
}

// ---- run ---------------------------------------------------------------------------------------------------

const rows: [string, string, string][] = [];
try {
  if (!only || only.has('semver')) {
    const cluster = await startTestCluster();
    try {
      await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-semver' } });
      const range = Array.from({ length: 30_000 }, (_, index) => `1.0.${index}`).join(' || ');
      for (let i = 0; i < 10; i++) {
        await cluster.apply({
          apiVersion: 'source.toolkit.fluxcd.io/v1',
          kind: 'GitRepository',
          metadata: { name: `semver-${i}`, namespace: 'bench-semver' },
          spec: { url: 'https://github.com/your-org/bench-semver', interval: '10m', ref: { semver: range } },
        });
      }
      console.error(`10 GitRepositories with a ${(range.length / 1024).toFixed(0)} KiB semver range of 30,000 alternatives`);
      for (const [variant, mainScript] of variants) rows.push(['semver', variant, await semver(cluster, variant, mainScript)]);
    } finally {
      await cluster.stop();
    }
  }
  for (const [name, scenario] of [['zero', zero], ['fifo', fifo], ['plugin', plugin]] as const) {
    if (only && !only.has(name)) continue;
    for (const [variant, mainScript] of variants) {
      rows.push([name, variant, await scenario(variant, mainScript)]);
      console.error(`${name} ${variant}: ${rows.at(-1)![2]}`);
    }
  }
} finally {
  work.remove();
}
for (const [name, variant, result] of rows) console.log(`${name.padEnd(7)} ${variant.padEnd(7)} ${result}`);
