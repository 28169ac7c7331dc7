/**
 * Shared pieces of the benchmarks: fluxgate as a separate process (`bun src/main.ts serve`), signed GitHub pushes,
 * an open-loop pacer, a concurrency limit, percentiles and a table printer. The API-server side (cluster, objects,
 * watch, raw PATCHes) is in bench/api-server.ts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test/support/temp-dir.ts';
import { deliveryBody } from '../test/support/webhooks.ts';

export const root = join(import.meta.dir, '..');
/** The webhook secret every benchmark config reads from BENCH_SECRET. */
export const SECRET = 'bench-webhook-secret-7c1d';

// ---- fluxgate ---------------------------------------------------------------------------------------------

export interface Fluxgate {
  url: string;
  pid: number;
  /** Milliseconds from spawning the process to its first `/healthz` 200. */
  startMs: number;
  /** Its log lines at warn or error level so far, counted by message: `none` or `3× patch failed, retrying; …`. */
  problems(): Promise<string>;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number>;
}

/** A port that was free a moment ago (the OS picks it; the listener is closed again at once). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/**
 * Starts `bun src/main.ts serve` on a config made by `config(address)`, at the log level a user runs with, and
 * waits for its first `/healthz` 200. The process ends with this script, however the script ends.
 * `BENCH_BUN_FLAGS` are passed to that bun, e.g. `--cpu-prof-md --cpu-prof-dir=/tmp/prof` to see where it spends.
 */
export async function startFluxgate(config: (address: string) => string): Promise<Fluxgate> {
  const dir = tempDir('fluxgate-bench-');
  const port = freePort();
  const configPath = join(dir.path, 'fluxgate.yaml');
  writeFileSync(configPath, config(`127.0.0.1:${port}`));
  // Logs go to a file, as under systemd or a container runtime: the gateway never waits for this busy process to
  // read them.
  const logPath = join(dir.path, 'fluxgate.log');
  const logFile = openSync(logPath, 'w');
  const bunFlags = (process.env.BENCH_BUN_FLAGS ?? '').split(' ').filter(Boolean);
  const spawnedAt = performance.now();
  const child = Bun.spawn(['setpriv', '--pdeathsig', 'TERM', '--', process.execPath, ...bunFlags, join(root, 'src/main.ts'), 'serve', '--config', configPath], {
    env: { ...process.env, BENCH_SECRET: SECRET, FLUXGATE_LOG_LEVEL: process.env.FLUXGATE_LOG_LEVEL ?? 'info' },
    stdout: 'ignore',
    stderr: logFile,
  });
  closeSync(logFile);
  const url = `http://127.0.0.1:${port}`;
  let startMs = NaN;
  for (;;) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) {
      startMs = performance.now() - spawnedAt;
      break;
    }
    if (child.exitCode !== null || performance.now() - spawnedAt > 120_000) {
      child.kill('SIGKILL');
      const log = readFileSync(logPath, 'utf8').slice(-2000);
      dir.remove();
      throw new Error(`fluxgate did not answer /healthz (exit code ${child.exitCode}): ${log}`);
    }
    await Bun.sleep(5);
  }
  return {
    url,
    pid: child.pid,
    startMs,
    problems: () => tallyProblems(logPath),
    async stop() {
      child.kill('SIGTERM');
      const code = await child.exited;
      dir.remove();
      return code;
    },
  };
}

/** The warn and error lines of a gateway's log, counted by message (only those lines are parsed). */
async function tallyProblems(logPath: string): Promise<string> {
  const problems = new Map<string, number>();
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of Bun.file(logPath).stream()) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (!line.includes('"level":"warn"') && !line.includes('"level":"error"')) continue;
      const msg = String((JSON.parse(line) as { msg?: unknown }).msg);
      problems.set(msg, (problems.get(msg) ?? 0) + 1);
    }
  }
  return problems.size === 0 ? 'none' : [...problems].map(([msg, n]) => `${n}× ${msg}`).join('; ');
}

/** Resident memory of a process (VmRSS), or its peak so far (VmHWM), from /proc. */
export function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return line ? Number(line[1]) / 1024 : NaN;
}

// ---- webhooks ---------------------------------------------------------------------------------------------

export interface Answer {
  status: number;
  /** performance.now() when the request was sent and when its answer's headers arrived. */
  sentAt: number;
  answeredAt: number;
  /** Date.now() when the answer arrived (to compare with requestedAt values, which are wall-clock times). */
  answeredWallMs: number;
}

/**
 * A signed GitHub push for `repository`@main, built from octokit's published example; `send` posts it with a
 * fresh delivery id each time (the signature covers only the body, so one signature serves every send).
 */
export function githubPush(repository: string): { send(url: string): Promise<Answer> } {
  const body = deliveryBody('github/push-new-branch.json', { repository, branch: 'main' });
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const prefix = randomBytes(6).toString('hex');
  let sequence = 0;
  return {
    async send(url) {
      const sentAt = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `${prefix}-${sequence++}`, 'x-hub-signature-256': signature },
        body,
      });
      const answeredAt = performance.now();
      const answeredWallMs = Date.now();
      await response.arrayBuffer();
      return { status: response.status, sentAt, answeredAt, answeredWallMs };
    },
  };
}

/** The `providers:` block every benchmark config uses: one GitHub provider reading BENCH_SECRET. */
export const githubProvider = 'providers:\n  - { name: github, type: github, secret: { env: BENCH_SECRET } }';

/**
 * Calls `send(i)` for i = 0 … rate·seconds−1 at a fixed rate, without waiting for answers (an open loop, as
 * webhooks arrive), then waits for all of them. `seconds` is how long sending took (more than asked when this
 * process could not keep up).
 */
export async function paced<T>(rate: number, seconds: number, send: (index: number) => Promise<T>): Promise<{ results: T[]; seconds: number }> {
  const total = Math.round(rate * seconds);
  const pending: Promise<T>[] = [];
  const started = performance.now();
  while (pending.length < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (pending.length < due) pending.push(send(pending.length));
    await Bun.sleep(1);
  }
  const sendingSeconds = (performance.now() - started) / 1000;
  return { results: await Promise.all(pending), seconds: sendingSeconds };
}

/** Wraps `run` so that at most `concurrency` calls are under way at once; the others wait their turn. */
export function limited<A extends unknown[], T>(concurrency: number, run: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  const queue: (() => void)[] = [];
  let active = 0;
  return async (...args) => {
    if (active >= concurrency) await new Promise<void>((resolve) => queue.push(resolve));
    else active += 1;
    try {
      return await run(...args);
    } finally {
      const next = queue.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

// ---- figures ----------------------------------------------------------------------------------------------

/** The p-th percentile (0–100, nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `measured / baseline` as `1.23×`. */
export function ratio(measured: number, baseline: number): string {
  return `${(measured / baseline).toFixed(2)}×`;
}

/** Prints rows under a header, columns padded to their widest cell (the first left-aligned, the rest right). */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  for (const row of cells) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '));
}

/** Milliseconds with one decimal. */
export const ms = (value: number) => `${value.toFixed(1)} ms`;

/** Prints the machine line every benchmark starts with: cores, memory, load average. */
export function printMachine(title: string): void {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const memory = Number(readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0) / 1024 / 1024;
  console.log(`${title}\nmachine: ${navigator.hardwareConcurrency} cores, ${memory.toFixed(1)} GiB, load average ${load} (at start), bun ${Bun.version}\n`);
}
