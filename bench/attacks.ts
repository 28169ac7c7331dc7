/**
 * Attacks on the HTTP surface, on loopback, against fluxgate in dry-run: each scenario starts a fresh gateway
 * process, measures its idle RSS, runs, and reports what was sent, how it was answered, whether the process
 * survived, and its peak RSS while the scenario ran (VmRSS sampled every 10 ms, and VmHWM).
 *
 * usage: bun bench/attacks.ts [--only name,name] [--main path/to/src/main.ts]
 *   --main runs the same scenarios against another checkout (e.g. an older commit) for comparison.
 *
 * To add a scenario, write `async function name(gateway: Gateway): Promise<Outcome>` and list it in `scenarios`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { head, rawConnect, type RawConnection, type RawResponse } from '../test/http/raw-http.ts';
import { waitForLogLine } from '../test/support/cli.ts';
import { tempDir } from '../test/support/temp-dir.ts';

const { values } = parseArgs({ options: { only: { type: 'string' }, main: { type: 'string' } } });
const mainScript = values.main ?? join(import.meta.dir, '..', 'src', 'main.ts');
const dir = tempDir('fluxgate-attacks-');
const MiB = 1024 * 1024;
/** A Host of ordinary length (a short one is the subject of its own scenario). */
const host = 'fluxgate.test';
/** The default server.maxBodySize: a "maximum-size" body. */
const maxBody = 4 * MiB;

interface Gateway {
  port: number;
  /** The admin listener (/metrics, /healthz, …). */
  adminPort: number;
  pid: number;
  /** Exit code once the process has ended (a crash, unless the scenario stopped it). */
  exitCode(): number | null;
}

interface Outcome {
  requests: number;
  /** Answers by status; `closed` = connection closed without an answer, `open` = still waiting at the end. */
  answers: Record<string, number>;
  note?: string;
}

interface Row extends Outcome {
  name: string;
  crashed: boolean;
  idleMiB: number;
  peakMiB: number;
  hwmMiB: number;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function writeConfig(): string {
  const path = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    path,
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { value: attack-bench-secret } }
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
  );
  return path;
}

async function startGateway(prefix: string[] = []): Promise<Gateway & { stop(): Promise<void> }> {
  // setpriv (util-linux, like prlimit) ends the gateway with this script, however this script ends.
  const child = Bun.spawn(['setpriv', '--pdeathsig', 'TERM', '--', ...prefix, process.execPath, mainScript, 'serve', '--config', writeConfig()], {
    env: { ...process.env, FLUXGATE_LOG_LEVEL: 'info' },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening').catch((error) => {
    child.kill();
    throw error;
  });
  // Keep reading stderr so the child never blocks on a full pipe.
  void (async () => {
    const reader = child.stderr.getReader();
    while (!(await reader.read()).done);
  })().catch(() => {});
  const portOf = (address: unknown) => Number(String(address).split(':').at(-1));
  return {
    port: portOf(listening.address),
    adminPort: portOf(listening.admin),
    pid: child.pid,
    exitCode: () => child.exitCode,
    async stop() {
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}

const count = (answers: Record<string, number>, key: string | number) => (answers[key] = (answers[key] ?? 0) + 1);

/** Waits for each connection's answer (or its close) for at most `ms`, then tallies. */
async function tally(connections: RawConnection[], ms: number): Promise<Record<string, number>> {
  const answers: Record<string, number> = {};
  const settled = await Promise.all(
    connections.map((connection) =>
      Promise.race([
        connection.response().then((response: RawResponse) => String(response.status), () => 'closed'),
        Bun.sleep(ms).then(() => (connection.closed() ? 'closed' : 'open')),
      ]),
    ),
  );
  for (const answer of settled) count(answers, answer);
  return answers;
}

// ---- scenarios -------------------------------------------------------------------------------------------

/** Short and missing Host headers, absolute-form request lines: do paths leak to other routes? */
async function shortHost(gateway: Gateway): Promise<Outcome> {
  const probes = [
    head('GET /hook/metrics HTTP/1.1', { Host: 'x', Connection: 'close' }),
    head('GET /hook/api/deliveries HTTP/1.1', { Host: 'x', Connection: 'close' }),
    head('GET /hook/metrics HTTP/1.0', {}),
    head('GET http://x/hook/metrics HTTP/1.1', { Host: 'x', Connection: 'close' }),
    head('POST /hook/github HTTP/1.1', { Host: 'gw', 'Content-Length': 2, Connection: 'close' }) + '{}',
  ];
  const answers: Record<string, number> = {};
  let leaked = 0;
  for (const probe of probes) {
    const connection = await rawConnect(gateway.port);
    connection.write(probe);
    const response = await connection.response().catch(() => undefined);
    connection.destroy();
    count(answers, response?.status ?? 'closed');
    if (response && /fluxgate_|"deliveries"/.test(response.body)) leaked += 1;
  }
  return { requests: probes.length, answers, note: `${leaked} answered with a page's content; the unsigned POST must be 401, not 404` };
}

/** 1 GiB chunked bodies to routes that read no body: how much does the gateway take before it stops the sender? */
async function bodyToPages(gateway: Gateway): Promise<Outcome> {
  const answers: Record<string, number> = {};
  const taken: string[] = [];
  const chunk = Buffer.concat([Buffer.from(`${(MiB).toString(16)}\r\n`), Buffer.alloc(MiB, 0x20), Buffer.from('\r\n')]);
  for (const [path, port] of [['/healthz', gateway.port], ['/metrics', gateway.adminPort]] as const) {
    const connection = await rawConnect(port);
    connection.write(head(`POST ${path} HTTP/1.1`, { Host: host, 'Transfer-Encoding': 'chunked' }));
    let sent = 0;
    while (sent < 1024 && (await connection.send(chunk))) sent += 1;
    const answer = await Promise.race([connection.response().then((response) => String(response.status), () => 'closed'), Bun.sleep(1_000).then(() => 'open')]);
    count(answers, answer);
    connection.destroy();
    taken.push(`${path} ${sent} MiB`);
  }
  return { requests: 2, answers, note: `taken from the sender before it was stopped: ${taken.join(', ')}` };
}

/** A declared Content-Length of 10 GiB on a hook: answered by fluxgate (counted) without waiting for the body? */
async function hugeDeclared(gateway: Gateway): Promise<Outcome> {
  const connection = await rawConnect(gateway.port);
  connection.write(head('POST /hook/github HTTP/1.1', { Host: host, 'X-GitHub-Event': 'push', 'Content-Length': 10 * 1024 * MiB }));
  const answers = await tally([connection], 2_000);
  await Bun.sleep(50);
  const closed = connection.closed();
  connection.destroy();
  const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const counted = /outcome="too_large"\} 1/.test(metrics);
  return { requests: 1, answers, note: `connection closed: ${closed}; counted as too_large: ${counted}` };
}

/** 40 unauthenticated maximum-size bodies: headers and all but the last 64 KiB sent, then a stall. */
function heldBodies(framing: 'length' | 'chunked') {
  return async (gateway: Gateway): Promise<Outcome> => {
    const connections: RawConnection[] = [];
    const part = new Uint8Array(maxBody - 64 * 1024).fill(0x20);
    for (let index = 0; index < 40; index += 1) {
      const connection = await rawConnect(gateway.port);
      connections.push(connection);
      const size: Record<string, string | number> = framing === 'length' ? { 'Content-Length': maxBody } : { 'Transfer-Encoding': 'chunked' };
      connection.write(head('POST /hook/github HTTP/1.1', { Host: host, 'X-GitHub-Event': 'push', ...size }));
      connection.write(framing === 'length' ? part : Buffer.concat([Buffer.from(`${part.byteLength.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
    }
    const answers = await tally(connections, 3_000);
    for (const connection of connections) connection.destroy();
    return { requests: 40, answers, note: `${framing === 'length' ? 'Content-Length' : 'chunked'}, ${maxBody / MiB} MiB each; "open" = held by the gateway` };
  };
}

/** 20 bodies trickling one byte a second: how long do they hold the gateway? */
async function slowBodies(gateway: Gateway): Promise<Outcome> {
  const connections: RawConnection[] = [];
  const started = Date.now();
  for (let index = 0; index < 20; index += 1) {
    const connection = await rawConnect(gateway.port);
    connections.push(connection);
    connection.write(head('POST /hook/github HTTP/1.1', { Host: host, 'X-GitHub-Event': 'push', 'Content-Length': 10_000 }));
  }
  const trickle = setInterval(() => connections.forEach((connection) => connection.write(' ')), 1_000);
  const answers = await tally(connections, 30_000);
  clearInterval(trickle);
  for (const connection of connections) connection.destroy();
  return { requests: 20, answers, note: `all ended after ${((Date.now() - started) / 1000).toFixed(1)} s` };
}

/** 1000 hook requests held open at once (a few bytes of a 1 KiB body each): beyond the request cap? */
async function requestFlood(gateway: Gateway): Promise<Outcome> {
  const connections: RawConnection[] = [];
  for (let index = 0; index < 1000; index += 1) {
    const connection = await rawConnect(gateway.port);
    connections.push(connection);
    connection.write(head('POST /hook/github HTTP/1.1', { Host: host, 'X-GitHub-Event': 'push', 'Content-Length': 1024 }) + '{"ref":');
  }
  const probe = await fetch(`http://127.0.0.1:${gateway.port}/healthz`).then((response) => response.status, () => 'failed');
  const answers = await tally(connections, 2_000);
  for (const connection of connections) connection.destroy();
  return { requests: 1000, answers, note: `/healthz during the flood: ${probe}` };
}

/**
 * At the open-file limit: a gateway under `prlimit --nofile=128:128` gets 200 held connections, then 9 health
 * probes; how many are answered, and how much CPU does the gateway burn meanwhile?
 */
async function fdExhaustion(): Promise<Outcome & { gateway: Gateway & { stop(): Promise<void> } }> {
  const gateway = await startGateway(['prlimit', '--nofile=128:128', '--']);
  const connections: RawConnection[] = [];
  for (let index = 0; index < 200; index += 1) {
    const connection = await rawConnect(gateway.port).catch(() => undefined);
    if (!connection) continue;
    connections.push(connection);
    connection.write(head('POST /hook/github HTTP/1.1', { Host: host, 'X-GitHub-Event': 'push', 'Content-Length': 1024 }) + '{"ref":');
  }
  const cpuBefore = cpuSeconds(gateway.pid);
  const startedAt = Date.now();
  let answered = 0;
  for (let probe = 0; probe < 9; probe += 1) {
    const ok = await fetch(`http://127.0.0.1:${gateway.port}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((response) => response.ok, () => false);
    if (ok) answered += 1;
  }
  const cpuShare = (cpuSeconds(gateway.pid) - cpuBefore) / ((Date.now() - startedAt) / 1000);
  const answers = await tally(connections, 500);
  for (const connection of connections) connection.destroy();
  return { gateway, requests: 200 + 9, answers, note: `${answered}/9 health probes answered; gateway CPU ${(cpuShare * 100).toFixed(0)}% of a core while probing` };
}

type Scenario = (gateway: Gateway) => Promise<Outcome>;
const scenarios: Record<string, Scenario | 'own-process'> = {
  'short Host / absolute form': shortHost,
  '1 GiB body to /healthz, /metrics': bodyToPages,
  'Content-Length 10 GiB on a hook': hugeDeclared,
  '40 held max-size bodies (length)': heldBodies('length'),
  '40 held max-size bodies (chunked)': heldBodies('chunked'),
  '20 bodies at 1 byte/s': slowBodies,
  '1000 held hook requests': requestFlood,
  'fd limit 128, 200 held requests': 'own-process',
};

async function run(name: string, scenario: Scenario | 'own-process'): Promise<Row> {
  const own = scenario === 'own-process' ? await fdExhaustion() : undefined;
  const gateway = own?.gateway ?? (await startGateway());
  // Idle: after start-up and one request, as a scrape or probe would leave it.
  await fetch(`http://127.0.0.1:${gateway.port}/healthz`);
  await Bun.sleep(300);
  const idleMiB = statusField(gateway.pid, 'VmRSS');
  let peakMiB = idleMiB;
  const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, statusField(gateway.pid, 'VmRSS') || 0)), 10);
  try {
    const outcome = own ?? (await (scenario as Scenario)(gateway));
    await Bun.sleep(100);
    const crashed = gateway.exitCode() !== null;
    return { name, ...outcome, crashed, idleMiB, peakMiB, hwmMiB: statusField(gateway.pid, 'VmHWM') };
  } finally {
    clearInterval(sampler);
    await gateway.stop();
  }
}

const chosen = values.only ? values.only.split(',') : Object.keys(scenarios);
const rows: Row[] = [];
try {
  for (const name of Object.keys(scenarios).filter((key) => chosen.some((wanted) => key.includes(wanted)))) rows.push(await run(name, scenarios[name]!));
} finally {
  dir.remove();
}

const fiveHundreds = (answers: Record<string, number>) => Object.entries(answers).reduce((sum, [status, n]) => sum + (/^5/.test(status) ? n : 0), 0);
const answerText = (answers: Record<string, number>) => Object.entries(answers).map(([status, n]) => `${n}×${status}`).join(' ');
console.log(`fluxgate attacks: ${mainScript}, max body ${maxBody / MiB} MiB, each scenario on a fresh dry-run process (2 cores shared)\n`);
console.log(`${'scenario'.padEnd(36)} ${'sent'.padStart(5)} ${'5xx'.padStart(4)} crash ${'idle MiB'.padStart(8)} ${'peak MiB'.padStart(8)} ${'HWM MiB'.padStart(8)}  answers`);
for (const row of rows) {
  console.log(
    `${row.name.padEnd(36)} ${String(row.requests).padStart(5)} ${String(fiveHundreds(row.answers)).padStart(4)} ${(row.crashed ? 'YES' : 'no').padEnd(5)} ${row.idleMiB.toFixed(1).padStart(8)} ${row.peakMiB.toFixed(1).padStart(8)} ${row.hwmMiB.toFixed(1).padStart(8)}  ${answerText(row.answers)}${row.note ? ` (${row.note})` : ''}`,
  );
}
