/**
 * The command line as a user meets it: `fluxgate register` and `serve --register` as separate processes against a
 * fake GitHub on loopback — exit codes, the table, and the start-up registration that is logged and never fatal.
 */
import { afterAll, afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../support/git-hosts/fake-github.ts';
import { fluxgateArgs, waitForLogLine } from '../support/cli.ts';
import { runIsolated } from '../support/isolated-cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { PUBLIC_URL, SECRETS } from './harness.ts';

setDefaultTimeout(30_000);
const dir = tempDir();
afterAll(() => dir.remove());
let github: FakeGitHub;
beforeEach(() => {
  github = startFakeGitHub({ tokens: { [SECRETS.GH_TOKEN]: { scopes: 'admin:repo_hook', admin: ['repos/acme/app'] } } });
});
afterEach(async () => {
  await github.stop();
});

function workdir(name: string, repositories = '[acme/app]', onStart = false): string {
  const cwd = join(dir.path, name);
  mkdirSync(cwd, { recursive: true });
  writeFileSync(
    join(cwd, 'fluxgate.yaml'),
    `server: { address: "127.0.0.1:0", publicUrl: ${PUBLIC_URL} }
kubernetes: { mode: dry-run }
providers:
  - name: github
    type: github
    secret: { env: GH_SECRET }
    register: { token: { env: GH_TOKEN }, apiUrl: ${github.origin}, repositories: ${repositories}${onStart ? ', onStart: true' : ''} }
`,
  );
  return cwd;
}
const env = { GH_SECRET: SECRETS.GH_SECRET, GH_TOKEN: SECRETS.GH_TOKEN };

/** `fluxgate serve ...args` until it logs `until`; every log line read so far, and a stop that returns the exit code. */
async function serveUntil(args: string[], cwd: string, until: string) {
  const child = Bun.spawn(fluxgateArgs('serve', ...args), { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, FLUXGATE_LOG_LEVEL: 'debug', ...env }, stdout: 'ignore', stderr: 'pipe' });
  const lines: string[] = [];
  try {
    const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening', lines);
    if (until !== 'fluxgate listening') await waitForLogLine(child.stderr, (line) => line.msg === until, lines);
    return { lines: lines.map((line) => JSON.parse(line)), url: `http://${String(listening.address)}`, stop: () => (child.kill('SIGTERM'), child.exited) };
  } catch (error) {
    child.kill();
    throw error;
  }
}

describe('fluxgate register', () => {
  test('--dry-run exits 2 with the plan; the run exits 0; a second dry run exits 0', async () => {
    const cwd = workdir('cycle');
    const plan = await runIsolated(['register', '--dry-run'], { cwd, env });
    expect(plan.stdout).toContain('github    repository acme/app  create  events push');
    expect(plan.stdout).toContain('dry run, nothing changed: would create 1, update 0, remove 0; 0 unchanged');
    expect(plan.code).toBe(2);
    expect(github.hooks('repos/acme/app')).toEqual([]);
    const applied = await runIsolated(['register', '--config', 'fluxgate.yaml'], { cwd, env });
    expect(applied.code).toBe(0);
    expect(github.hooks('repos/acme/app')).toHaveLength(1);
    const again = await runIsolated(['register', '--dry-run', '--output', 'json'], { cwd, env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ dryRun: true, summary: { unchanged: 1, create: 0 }, exitCode: 0 });
    for (const run of [plan, applied, again]) expect(run.stdout + run.stderr).not.toContain(SECRETS.GH_TOKEN);
  });

  test('a failed scope exits 1; an unset token is a config problem (exit 1); a bad --output is a usage error (exit 2)', async () => {
    const failed = await runIsolated(['register'], { cwd: workdir('failed', '[acme/app, acme/locked]'), env });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('repository acme/locked');
    const unset = await runIsolated(['register'], { cwd: workdir('unset'), env: { GH_SECRET: SECRETS.GH_SECRET } });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('providers[0].register.token: environment variable GH_TOKEN is not set');
    const usage = await runIsolated(['register', '--output', 'yaml'], { cwd: workdir('usage'), env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("argument 'yaml' is invalid. Allowed choices are table, json.");
  });
});

describe('serve and start-up registration', () => {
  test('serve --register registers the hooks once at start and logs the plan', async () => {
    const serve = await serveUntil(['--register'], workdir('serve-register'), 'webhook registration done');
    try {
      const created = serve.lines.find((line) => line.msg === 'webhook created');
      expect(created).toMatchObject({ level: 'info', provider: 'github', scope: 'repository acme/app', action: 'create', url: `${PUBLIC_URL}/hook/github` });
      expect(github.hooks('repos/acme/app')).toHaveLength(1);
      expect(JSON.stringify(serve.lines)).not.toContain(SECRETS.GH_SECRET);
    } finally {
      await serve.stop();
    }
  });

  test('register.onStart does the same without the flag; a failure is logged and serving goes on', async () => {
    const serve = await serveUntil([], workdir('on-start', '[acme/locked]', true), 'webhook registration done');
    try {
      const failed = serve.lines.find((line) => line.msg === 'webhook registration failed');
      expect(failed).toMatchObject({ level: 'error', scope: 'repository acme/locked', action: 'error' });
      expect(failed.error).toContain('admin:repo_hook');
      expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  test('without --register or onStart, serve asks no host anything', async () => {
    // Registration is not even loaded: serve is up, and no line about it is logged.
    const serve = await serveUntil([], workdir('no-register'), 'fluxgate listening');
    try {
      expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
      expect(serve.lines.filter((line) => JSON.stringify(line).includes('registration'))).toEqual([]);
    } finally {
      await serve.stop();
    }
    expect(github.requests).toEqual([]);
  });
});
