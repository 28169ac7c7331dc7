/**
 * Huge values in a signed, matching delivery: what they cost the admin surface and the log. A fluxgate process in
 * dry-run (JSON logs to a file) receives N signed GitHub pushes (default 100) whose `repository.full_name`, `ref`
 * and `head_commit.id` are each 1.3 MB, all matching a target; then:
 * - `GET /` on the admin port: its size and the time to the last byte, and meanwhile `GET /healthz` on the webhook
 *   port, probed one after another: the slowest answer (how long a render blocks the port webhooks arrive on);
 * - `GET /api/deliveries`: its size and time;
 * - the log: its longest line, and the longest `webhook accepted` line;
 * - VmRSS once the deliveries are in (what the records and caches keep alive).
 *
 * usage: bun bench/attack-values.ts [--deliveries 100] [--size 1300000] [--main src/main.ts] [--baseline path/to/main.ts]
 *   --baseline runs the same scenario first against another checkout (e.g. one without the bounds), and prints
 *   both with their ratios.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../test/support/temp-dir.ts';
import { githubPushWith, post } from '../test/support/webhooks.ts';
import { printMachine, printTable, ratio, rssMiB } from './support.ts';

const { values } = parseArgs({ options: { deliveries: { type: 'string' }, size: { type: 'string' }, main: { type: 'string' }, baseline: { type: 'string' } } });
const deliveries = Number(values.deliveries ?? 100);
const size = Number(values.size ?? 1_300_000);
const mainScript = values.main ?? join(import.meta.dir, '..', 'src', 'main.ts');
const secret = 'attack-values-bench-secret';

interface Figures {
  accepted: number;
  pageBytes: number;
  pageMs: number;
  healthzWorstMs: number;
  healthzProbes: number;
  apiBytes: number;
  apiMs: number;
  longestLogLine: number;
  acceptedLogLine: number;
  rssMiB: number;
}

async function startGateway(main: string, dir: string): Promise<{ port: number; adminPort: number; pid: number; logPath: string; stop(): Promise<void> }> {
  const configPath = join(dir, 'fluxgate.yaml');
  writeFileSync(
    configPath,
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { value: ${secret} } }
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
  );
  const logPath = join(dir, 'fluxgate.log');
  // Logs go to a file, as under systemd or a container runtime, after the line that gives the ports.
  const child = Bun.spawn(['setpriv', '--pdeathsig', 'TERM', '--', 'sh', '-c', `exec "$0" "$@" 2>"${logPath}"`, process.execPath, main, 'serve', '--config', configPath], {
    env: { ...process.env, FLUXGATE_LOG_LEVEL: 'info', FLUXGATE_LOG_FORMAT: 'json' },
    stdout: 'ignore',
  });
  let listening: Record<string, unknown> | undefined;
  for (let waited = 0; !listening; waited += 20) {
    if (child.exitCode !== null || waited > 60_000) throw new Error(`fluxgate did not start: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    await Bun.sleep(20);
    const line = readFileSync(logPath, 'utf8').split('\n').find((text) => text.includes('"fluxgate listening"'));
    if (line) listening = JSON.parse(line) as Record<string, unknown>;
  }
  const portOf = (address: unknown) => Number(String(address).split(':').at(-1));
  return {
    port: portOf(listening.address),
    adminPort: portOf(listening.admin),
    pid: child.pid,
    logPath,
    async stop() {
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}

/** A GET, read to its last byte: size and milliseconds. */
async function timedGet(url: string): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  const body = await (await fetch(url)).arrayBuffer();
  return { bytes: body.byteLength, ms: performance.now() - started };
}

async function scenario(main: string): Promise<Figures> {
  const dir = tempDir('fluxgate-attack-values-');
  const gateway = await startGateway(main, dir.path);
  try {
    const huge = (fill: string) => fill.repeat(size);
    let accepted = 0;
    for (let index = 0; index < deliveries; index += 1) {
      const hook = githubPushWith(secret, (payload) => {
        payload.repository.full_name = `your-org/${huge('r')}${index}`;
        payload.ref = `refs/heads/${huge('b')}${index}`;
        payload.head_commit.id = `${huge('c')}${index}`;
      });
      const response = await post(`http://127.0.0.1:${gateway.port}/hook/github`, hook);
      await response.arrayBuffer();
      if (response.status === 202) accepted += 1;
    }
    await Bun.sleep(500); // dry-run "patches" and their log lines
    const rss = rssMiB(gateway.pid);

    // The page, with the webhook port probed one request after another until it has been read.
    let done = false;
    const page = timedGet(`http://127.0.0.1:${gateway.adminPort}/`).finally(() => (done = true));
    let worst = 0;
    let probes = 0;
    while (!done) {
      const started = performance.now();
      await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).arrayBuffer();
      worst = Math.max(worst, performance.now() - started);
      probes += 1;
    }
    const pageFigures = await page;
    const api = await timedGet(`http://127.0.0.1:${gateway.adminPort}/api/deliveries`);

    await gateway.stop();
    const lines = readFileSync(gateway.logPath, 'utf8').split('\n');
    const longest = Math.max(...lines.map((line) => Buffer.byteLength(line)));
    const acceptedLine = Math.max(0, ...lines.filter((line) => line.includes('"webhook accepted"')).map((line) => Buffer.byteLength(line)));
    return { accepted, pageBytes: pageFigures.bytes, pageMs: pageFigures.ms, healthzWorstMs: worst, healthzProbes: probes, apiBytes: api.bytes, apiMs: api.ms, longestLogLine: longest, acceptedLogLine: acceptedLine, rssMiB: rss };
  } finally {
    await gateway.stop();
    dir.remove();
  }
}

const bytes = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
const ms = (n: number) => `${n.toFixed(1)} ms`;

printMachine(`fluxgate huge values: ${deliveries} signed matching GitHub pushes, repository, ref and commit ${size.toLocaleString('en')} characters each, dry-run`);
const runs: [string, Figures][] = [];
if (values.baseline) runs.push([`baseline (${values.baseline})`, await scenario(values.baseline)]);
runs.push([`this checkout (${mainScript})`, await scenario(mainScript)]);

const rows = (figures: Figures): (string | number)[] => [
  `${figures.accepted}/${deliveries}`,
  bytes(figures.pageBytes),
  ms(figures.pageMs),
  `${ms(figures.healthzWorstMs)} (${figures.healthzProbes})`,
  bytes(figures.apiBytes),
  ms(figures.apiMs),
  bytes(figures.longestLogLine),
  bytes(figures.acceptedLogLine),
  `${figures.rssMiB.toFixed(0)} MiB`,
];
const header = ['run', '202', 'GET / size', 'GET / time', 'webhook /healthz worst (probes)', '/api/deliveries size', 'time', 'longest log line', '"webhook accepted" line', 'RSS after'];
const table = runs.map(([name, figures]) => [name, ...rows(figures)]);
if (runs.length === 2) {
  const [before, after] = [runs[0]![1], runs[1]![1]];
  const fields: (keyof Figures)[] = ['pageBytes', 'pageMs', 'healthzWorstMs', 'apiBytes', 'apiMs', 'longestLogLine', 'acceptedLogLine', 'rssMiB'];
  table.push(['before / after', '', ...fields.map((field) => ratio(before[field], after[field]))]);
}
printTable(header, table);
