/**
 * Ingest benchmark: a signed ~7 KB GitHub push at concurrency 32 against fluxgate (dry-run, so Kubernetes does
 * not limit it) and against a bare Bun.serve that reads the body and checks the HMAC, in the same run, each
 * server pinned to one core and the load generator (wrk) to another. Prints req/s, p99 latency, the ratio,
 * fluxgate's idle RSS after start, and each server's CPU time per request (utime + stime from /proc/PID/stat over
 * the measured load, all its threads).
 * With `--baseline DIR`, the fluxgate of another checkout (e.g. a worktree of an earlier commit) runs in the same
 * rounds too, so a change is measured against what it replaces on the same machine at the same time.
 * With `--state memory,sqlite`, fluxgate runs once per state store named (`state.store`; default: sqlite, the
 * default store), in the same interleaved rounds: what keeping the journal costs a webhook.
 * usage: bun bench/ingest.ts [--duration 10] [--rounds 2] [--baseline DIR] [--state memory,sqlite]
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deliveryBody } from '../test/support/webhooks.ts';
import { tempDir } from '../test/support/temp-dir.ts';
import { freePort, rssMiB } from './support.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' }, connections: { type: 'string', default: '32' }, baseline: { type: 'string' }, state: { type: 'string', default: 'sqlite' } },
});
const root = join(import.meta.dir, '..');
const secret = 'bench-secret';
const dir = tempDir('fluxgate-bench-');

if (!Bun.which('wrk')) {
  console.error('bench/ingest needs wrk (Debian package "wrk"): apt-get install -y wrk');
  process.exit(2);
}
const cores = Number(readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 1);
const pin = (core: number) => (cores > 1 ? ['taskset', '-c', String(core)] : []);

// A real push as GitHub publishes it (octokit's example, 8.7 KB), for the benchmark's repository and branch.
const body = Buffer.from(deliveryBody('github/push-new-branch.json', { repository: 'your-org/your-repo', branch: 'main' }));
const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
writeFileSync(join(dir.path, 'body.json'), body);
writeFileSync(
  join(dir.path, 'post.lua'),
  `wrk.method = "POST"
local f = io.open("${join(dir.path, 'body.json')}", "rb"); wrk.body = f:read("*all"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-Hub-Signature-256"] = "${signature}"
local n = 0
request = function()
  n = n + 1
  wrk.headers["X-GitHub-Delivery"] = "bench-" .. n
  return wrk.format(nil, "/hook/github")
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT %f %f %d %d\\n", summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.requests, non2xx))
end
`,
);

interface Started {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<RegExpMatchArray> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`process ended before printing ${pattern}:\n${text}`);
    text += decoder.decode(value, { stream: true });
    const match = text.match(pattern);
    if (match) {
      // Keep draining so the child never blocks on a full pipe; the rest of its output is not needed.
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return match;
    }
  }
}

const stores = values.state.split(',').map((store) => store.trim()).filter(Boolean);

/** `store` undefined: no `state:` section (a checkout from before it existed, as a baseline). */
function writeConfig(port: number, store: string | undefined): string {
  const path = join(dir.path, `fluxgate-${port}.yaml`);
  writeFileSync(
    path,
  `server: { address: 127.0.0.1:${port}, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
${store === undefined ? '' : `state: { store: ${store}, path: state-${port} }`}
providers:
  - { name: github, type: github, secret: { env: BENCH_SECRET } }
targets:
  - name: app
    providers: [github]
    match: { repository: your-org/your-repo, branches: [main] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
);
  return path;
}

async function startFluxgate(checkout: string, store: string | undefined): Promise<Started> {
  const port = freePort();
  // Logs go to /dev/null at the level a user runs with: their cost is part of what is measured.
  const child = Bun.spawn([...pin(0), process.execPath, join(checkout, 'src/main.ts'), 'serve', '--config', writeConfig(port, store)], {
    env: { ...process.env, BENCH_SECRET: secret, FLUXGATE_LOG_LEVEL: process.env.FLUXGATE_LOG_LEVEL ?? 'info' },
    stdout: 'ignore',
    stderr: 'ignore',
  });
  for (let attempt = 0; ; attempt += 1) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (attempt > 200 || child.exitCode !== null) throw new Error('fluxgate did not start');
    await Bun.sleep(25);
  }
  return { port, pid: child.pid, stop: async () => void (child.kill('SIGTERM'), await child.exited) };
}

async function startBare(parse: boolean): Promise<Started> {
  const args = [join(import.meta.dir, 'bare-server.ts'), '0', secret, ...(parse ? ['--parse'] : [])];
  const child = Bun.spawn([...pin(0), process.execPath, ...args], { stdout: 'pipe', stderr: 'inherit' });
  const match = await readUntil(child.stdout, /listening (\d+)/);
  return { port: Number(match[1]), pid: child.pid, stop: async () => void (child.kill('SIGTERM'), await child.exited) };
}

/** CPU seconds the process has used so far (user + system, every thread), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // Fields 14 and 15 of stat (utime, stime), counted from the state field (3); in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function load(port: number, seconds: number): Promise<{ rps: number; p99ms: number; requests: number; non2xx: number }> {
  const child = Bun.spawn([...pin(1), 'wrk', '-t1', `-c${values.connections}`, `-d${seconds}s`, '--latency', '-s', join(dir.path, 'post.lua'), `http://127.0.0.1:${port}`], { stdout: 'pipe', stderr: 'pipe' });
  const output = await new Response(child.stdout).text();
  await child.exited;
  const match = output.match(/RESULT ([\d.]+) ([\d.]+) (\d+) (\d+)/);
  if (!match) throw new Error(`wrk printed no result:\n${output}`);
  return { rps: Number(match[1]), p99ms: Number(match[2]), requests: Number(match[3]), non2xx: Number(match[4]) };
}

const duration = Number(values.duration);
type ServerName = string;
const fluxgates = stores.map((store) => (stores.length === 1 ? 'fluxgate' : `fluxgate (${store})`));
const servers: ServerName[] = ['bare', 'bare+parse', ...fluxgates, ...(values.baseline ? ['baseline'] : [])];
const results: Record<ServerName, { rps: number; p99ms: number; cpuUsPerRequest: number }[]> = Object.fromEntries(servers.map((name) => [name, []]));
let idleRss = NaN;
try {
  for (let round = 0; round < Number(values.rounds); round += 1) {
    // Interleaved rounds, so a noisy neighbour on this shared machine hurts every server alike.
    for (const name of servers) {
      const store = stores[fluxgates.indexOf(name)];
      const server = store !== undefined ? await startFluxgate(root, store) : name === 'baseline' ? await startFluxgate(values.baseline!, undefined) : await startBare(name === 'bare+parse');
      if (name === fluxgates[0] && round === 0) {
        await Bun.sleep(500);
        idleRss = rssMiB(server.pid);
      }
      await load(server.port, 2); // warm-up: JIT and connection set-up
      const cpuBefore = cpuSeconds(server.pid);
      const result = await load(server.port, duration);
      const cpuUsPerRequest = ((cpuSeconds(server.pid) - cpuBefore) / result.requests) * 1e6;
      if (result.non2xx > 0) throw new Error(`${name}: ${result.non2xx} answers were not 2xx`);
      results[name]!.push({ ...result, cpuUsPerRequest });
      await server.stop();
    }
  }
} finally {
  dir.remove();
}

const best = (name: ServerName) => results[name]!.reduce((a, b) => (b.rps > a.rps ? b : a));
const bare = best('bare');
const bareParse = best('bare+parse');
const fluxgate = best(fluxgates[0]!);
const line = (name: string, r: { rps: number; p99ms: number; cpuUsPerRequest: number }) =>
  `${name.padEnd(24)} ${r.rps.toFixed(0).padStart(9)} req/s   p99 ${r.p99ms.toFixed(2).padStart(6)} ms   cpu ${r.cpuUsPerRequest.toFixed(1).padStart(6)} µs/req`;
console.log(`ingest: ${body.length} B signed GitHub push, ${values.connections} connections, ${duration}s x ${values.rounds} rounds (best of), servers pinned to core 0, wrk to core 1`);
console.log(line('bare Bun.serve + HMAC', bare));
console.log(line('bare + JSON.parse', bareParse));
for (const name of fluxgates) console.log(line(`${name} (dry-run)`.slice(0, 24), best(name)));
console.log(`ratio fluxgate/bare:       ${((fluxgate.rps / bare.rps) * 100).toFixed(1)}% (goal >= 50%)`);
console.log(`ratio fluxgate/bare+parse: ${((fluxgate.rps / bareParse.rps) * 100).toFixed(1)}%`);
console.log(`ratio bare+parse/bare:     ${((bareParse.rps / bare.rps) * 100).toFixed(1)}% (the cost of parsing the payload alone)`);
console.log(`fluxgate idle RSS after start: ${idleRss.toFixed(1)} MiB`);
for (const name of fluxgates.slice(1)) console.log(`ratio ${name}/${fluxgates[0]}: ${(best(name).rps / fluxgate.rps).toFixed(2)}× req/s, p99 ${best(name).p99ms.toFixed(2)} vs ${fluxgate.p99ms.toFixed(2)} ms`);
if (values.baseline) {
  const baseline = best('baseline');
  console.log(line(`baseline (${values.baseline})`.slice(0, 24), baseline));
  console.log(`ratio fluxgate/baseline:   ${((fluxgate.rps / baseline.rps) * 100).toFixed(1)}% req/s, ${((fluxgate.cpuUsPerRequest / baseline.cpuUsPerRequest) * 100).toFixed(1)}% server CPU per request`);
  console.log(`every round (req/s, cpu µs/req): fluxgate ${results[fluxgates[0]!]!.map((r) => `${r.rps.toFixed(0)}/${r.cpuUsPerRequest.toFixed(1)}`).join(' ')}; baseline ${results.baseline!.map((r) => `${r.rps.toFixed(0)}/${r.cpuUsPerRequest.toFixed(1)}`).join(' ')}`);
}
