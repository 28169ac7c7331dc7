/**
 * Does a sender whose body is over server.maxBodySize read the 413? Each sender writes its whole request before
 * reading anything (as curl and GitHub's deliveries do) and is tallied `413` (written whole, then the 413 read) or
 * `reset` (the write failed: the server closed while the body was still arriving, which such a client reports
 * instead of any status). maxBodySize 64 KiB, the other limits at their defaults (maxBodyBytesInFlight 32 MiB, so
 * refused bodies are drained up to 8 MiB). Each checkout runs on its own fresh dry-run process, in the same run.
 *
 * usage: bun bench/attack-413.ts [--before OTHER/src/main.ts] [--senders 20] [--rounds 3]
 *   --before: a checkout to compare with (e.g. one without the drain); this checkout is always measured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { head, sendWholeThenRead } from '../test/http/raw-http.ts';
import { waitForLogLine } from '../test/support/cli.ts';
import { tempDir } from '../test/support/temp-dir.ts';

const { values } = parseArgs({ options: { before: { type: 'string' }, senders: { type: 'string' }, rounds: { type: 'string' } } });
const senders = Number(values.senders ?? 20);
const rounds = Number(values.rounds ?? 3);
const MiB = 1024 * 1024;
const dir = tempDir('fluxgate-attack-413-');
const checkouts = [...(values.before ? [{ name: 'before', main: values.before }] : []), { name: 'this checkout', main: join(import.meta.dir, '..', 'src', 'main.ts') }];

function writeConfig(): string {
  const path = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    path,
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0, maxBodySize: 64KiB }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { value: attack-413-bench-secret } }
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
  );
  return path;
}

async function startGateway(main: string): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  // setpriv (util-linux) ends the gateway with this script, however this script ends.
  const child = Bun.spawn(['setpriv', '--pdeathsig', 'TERM', '--', process.execPath, main, 'serve', '--config', writeConfig()], {
    env: { ...process.env, FLUXGATE_LOG_LEVEL: 'info' },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening');
  // Keep reading stderr so the child never blocks on a full pipe.
  void (async () => {
    const reader = child.stderr.getReader();
    while (!(await reader.read()).done);
  })().catch(() => {});
  return {
    port: Number(String(listening.address).split(':').at(-1)),
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}

function request(size: number, framing: 'length' | 'chunked'): Uint8Array {
  const body = Buffer.alloc(size, 0x20);
  const headers = { Host: 'fluxgate.test', 'X-GitHub-Event': 'push', 'Content-Type': 'application/json' };
  if (framing === 'length') return Buffer.concat([Buffer.from(head('POST /hook/github HTTP/1.1', { ...headers, 'Content-Length': size })), body]);
  return Buffer.concat([Buffer.from(head('POST /hook/github HTTP/1.1', { ...headers, 'Transfer-Encoding': 'chunked' })), Buffer.from(`${size.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
}

function rssMiB(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
  return match ? Number(match[1]) / 1024 : NaN;
}

interface Tally {
  read413: number;
  reset: number;
  other: number;
  ms: number;
}

/** `concurrent` senders at once, `rounds` times; each writes the whole request, then reads. */
async function attack(port: number, bytes: Uint8Array, concurrent: number): Promise<Tally> {
  const tally: Tally = { read413: 0, reset: 0, other: 0, ms: 0 };
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    const results = await Promise.all(Array.from({ length: concurrent }, () => sendWholeThenRead(port, bytes)));
    for (const result of results) {
      if (!result.written) tally.reset += 1;
      else if (result.response?.status === 413) tally.read413 += 1;
      else tally.other += 1;
    }
  }
  tally.ms = (performance.now() - started) / rounds;
  return tally;
}

const cases = [
  { size: 1 * MiB, framing: 'length', concurrent: 1 },
  { size: 1 * MiB, framing: 'length', concurrent: senders },
  { size: 1 * MiB, framing: 'chunked', concurrent: senders },
  { size: 6 * MiB, framing: 'length', concurrent: 1 },
  { size: 6 * MiB, framing: 'chunked', concurrent: 1 },
  { size: 6 * MiB, framing: 'length', concurrent: senders },
  { size: 12 * MiB, framing: 'length', concurrent: 1 },
] as const;

console.log(`attack-413: bodies over a 64 KiB maxBodySize, each written whole before reading; ${rounds} rounds per row (2 shared cores)\n`);
console.log('| checkout | body | framing | senders at once | read the 413 | reset while writing | other | ms per round | peak RSS |');
console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|');
try {
  for (const { size, framing, concurrent } of cases) {
    for (const checkout of checkouts) {
      const gateway = await startGateway(checkout.main);
      try {
        const tally = await attack(gateway.port, request(size, framing), concurrent);
        const total = tally.read413 + tally.reset + tally.other;
        console.log(
          `| ${checkout.name} | ${size / MiB} MiB | ${framing} | ${concurrent} | ${tally.read413}/${total} | ${tally.reset}/${total} | ${tally.other} | ${tally.ms.toFixed(0)} | ${rssMiB(gateway.pid).toFixed(1)} MiB |`,
        );
      } finally {
        await gateway.stop();
      }
    }
  }
} finally {
  dir.remove();
}
