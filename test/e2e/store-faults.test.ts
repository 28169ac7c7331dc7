/**
 * Faults of the state store itself, on a real fluxgate process and real files: the disk fills up (a file-size
 * limit: the kernel refuses the write), the state directory becomes read-only (a tmpfs remounted read-only), or the
 * file is damaged before a start. Each time: no 202 without its journal entry — 503 with Retry-After, counted,
 * /readyz not ready, one log line per 10 s — and recovery once the store takes writes again.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook, post } from '../support/webhooks.ts';

setDefaultTimeout(60_000);
const SECRET = 'store-faults-secret-3b7e';
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

function writeConfig(statePath: string): string {
  const dir = tempDir('fluxgate-store-faults-');
  dirs.push(dir);
  const path = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    path,
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
state: { path: ${statePath} }
providers: [{ name: github, type: github, secret: { value: ${SECRET} } }]
targets: [{ name: app, providers: [github], match: { repository: your-org/your-repo }, resources: [{ kind: GitRepository, name: app, namespace: flux-system }] }]
`,
  );
  return path;
}

const push = (gateway: GatewayProcess) => post(`${gateway.url}/hook/github`, githubWebhook(SECRET));

/** Polls `probe` every 250 ms until it gives a value (bounded by `timeoutMs`). */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await Bun.sleep(250);
  }
}

async function metric(gateway: GatewayProcess, name: string): Promise<number> {
  const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
}

/** Pushes until one is refused; every answer before it was a 202. */
async function pushUntilRefused(gateway: GatewayProcess, limit: number): Promise<{ accepted: number; refused: Response }> {
  for (let accepted = 0; accepted < limit; accepted += 1) {
    const response = await push(gateway);
    if (response.status !== 202) return { accepted, refused: response };
    await response.arrayBuffer();
  }
  throw new Error(`${limit} pushes were all accepted`);
}

async function expectUnavailable(gateway: GatewayProcess, refused: Response): Promise<void> {
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('5');
  expect(((await refused.json()) as { error: string }).error).toMatch(/^the state store cannot be written: /);
  const readyz = await fetch(`${gateway.adminUrl}/readyz`);
  expect(readyz.status).toBe(503);
  expect(((await readyz.json()) as { reason: string }).reason).toMatch(/state|store/);
  expect(await metric(gateway, 'fluxgate_store_healthy')).toBe(0);
  expect(await metric(gateway, 'fluxgate_store_errors_total')).toBeGreaterThan(0);
}

function loggedUnwritable(gateway: GatewayProcess): number {
  return gateway.lines.filter((line) => line.msg === 'the state store cannot be written: webhooks are answered 503 until it can').length;
}

describe('the state store cannot be written', () => {
  test('the disk fills up (a file-size limit): 503 + Retry-After, one log line for a flood, /readyz not ready; writes come back when room does', async () => {
    const state = tempDir('fluxgate-full-');
    dirs.push(state);
    // SIGXFSZ ignored, as a service manager's disk-full is an error, not a signal: the write fails with EFBIG.
    const gateway = await startGatewayProcess(writeConfig(state.path), {}, { fileSizeLimitKiB: 400 });
    try {
      const { accepted, refused } = await pushUntilRefused(gateway, 5000);
      expect(accepted).toBeGreaterThan(10);
      await expectUnavailable(gateway, refused);
      for (let i = 0; i < 20; i += 1) expect((await push(gateway)).status).toBe(503);
      expect(loggedUnwritable(gateway)).toBe(1);
      // Room again: the limit is lifted from the running process.
      expect(spawnSync('prlimit', ['--pid', String(gateway.pid), '--fsize=unlimited:']).status).toBe(0);
      expect((await push(gateway)).status).toBe(202);
      expect(await metric(gateway, 'fluxgate_store_healthy')).toBe(1);
      expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
      expect(gateway.lines.some((line) => line.msg === 'the state store can be written again: webhooks are accepted')).toBe(true);
    } finally {
      gateway.kill('SIGKILL');
      await gateway.exited;
    }
  });

  test('a read-only state directory (a read-only tmpfs): the gateway serves, answers 503 and is not ready, then opens its state once it can', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: run the suite as root (as CI does)');
    const base = tempDir('fluxgate-ro-');
    dirs.push(base);
    const mount = join(base.path, 'state');
    mkdirSync(mount);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=16m', 'tmpfs', mount]).status).toBe(0);
    try {
      const gateway = await startGatewayProcess(writeConfig(mount));
      try {
        expect(gateway.lines.find((line) => line.msg === 'the state store cannot be opened: webhooks are answered 503 until it can (tried again every 5 s)')).toMatchObject({ level: 'error' });
        await expectUnavailable(gateway, await push(gateway));
        expect(spawnSync('mount', ['-o', 'remount,rw', mount]).status).toBe(0);
        // Tried again on its own every 5 s, or by the next webhook once 5 s have passed since the last try.
        const accepted = await eventually(async () => ((await push(gateway)).status === 202 ? true : undefined), 20_000);
        expect(accepted).toBe(true);
        expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
      } finally {
        gateway.kill('SIGKILL');
        await gateway.exited;
      }
    } finally {
      spawnSync('umount', ['-l', mount]);
    }
  });

  test('a damaged file at start is moved aside with a loud error and a metric; the gateway serves on a new one', async () => {
    const state = tempDir('fluxgate-damaged-');
    dirs.push(state);
    const config = writeConfig(state.path);
    const first = await startGatewayProcess(config);
    for (let i = 0; i < 30; i += 1) expect((await push(first)).status).toBe(202);
    first.kill('SIGTERM');
    await first.exited;
    const file = join(state.path, 'fluxgate.db');
    writeFileSync(file, readFileSync(file).subarray(0, 5000));
    const second = await startGatewayProcess(config);
    try {
      expect(second.lines.find((line) => String(line.msg).startsWith('the state file could not be read and was moved aside'))).toMatchObject({ level: 'error', movedTo: expect.stringMatching(/fluxgate\.db\.corrupt-/) });
      expect(await metric(second, 'fluxgate_store_moved_aside_total')).toBe(1);
      expect((await push(second)).status).toBe(202);
    } finally {
      second.kill('SIGTERM');
      await second.exited;
    }
  });
});
