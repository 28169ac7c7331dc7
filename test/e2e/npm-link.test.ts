/**
 * `fluxgate` from a source checkout, as README says: `npm link` in this checkout (installed, as `npm ci` left it), on
 * a machine with only Node and npm on PATH — a fresh HOME, npm's global prefix and cache in a temporary directory,
 * no `bun` anywhere on PATH. The linked command runs from any directory, is Bun itself once started (the launcher
 * execs it, so SIGTERM drains and the exit code is the command's), and, where Bun was never installed, says what to
 * run instead of failing in `env`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { waitForLogLine } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

setDefaultTimeout(60_000);

const root = resolve(import.meta.dir, '..', '..');
const scratch = tempDir('fluxgate-npm-link-');
const home = join(scratch.path, 'home');
const prefix = join(scratch.path, 'npm-global');
const work = join(scratch.path, 'elsewhere');

/** The directories of `node` and `npm`, and the system's: what a machine with only Node and npm offers. */
function nodeOnlyPath(): string {
  const which = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  const dirs = [dirname(which('node')), dirname(which('npm')), '/usr/bin', '/bin'];
  return [...new Set(dirs)].join(':');
}

const basePath = nodeOnlyPath();
const env = (extra: Record<string, string> = {}) => ({ PATH: `${join(prefix, 'bin')}:${basePath}`, HOME: home, npm_config_prefix: prefix, npm_config_cache: join(scratch.path, 'npm-cache'), ...extra });

function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(command, args, { cwd: options.cwd ?? work, env: options.env ?? env(), encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const gitStatus = () => spawnSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'package.json', 'package-lock.json', 'node_modules', 'bin'], { cwd: root, encoding: 'utf8' }).stdout;

let statusBefore = '';
beforeAll(() => {
  for (const dir of [home, prefix, work]) mkdirSync(dir, { recursive: true });
  statusBefore = gitStatus();
});
afterAll(() => scratch.remove());

describe('npm link from this checkout', () => {
  test('the machine has Node and npm on PATH, and no bun', () => {
    expect(run('sh', ['-c', 'command -v node && command -v npm']).code).toBe(0);
    expect(run('sh', ['-c', 'command -v bun']).code).not.toBe(0);
  });

  test('links `fluxgate` into npm\'s bin directory without changing the checkout', () => {
    const linked = run('npm', ['link', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root });
    expect({ code: linked.code, stderr: linked.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readlinkSync(join(prefix, 'bin', 'fluxgate'))).toBe(join('..', 'lib', 'node_modules', 'fluxgate', packageJson.bin.fluxgate));
    expect(gitStatus()).toBe(statusBefore);
  });

  test('`fluxgate version` and `fluxgate --help` run under the checkout\'s Bun, from any directory', () => {
    expect(run('fluxgate', ['version'])).toEqual({ code: 0, stdout: `fluxgate ${packageJson.version}\n`, stderr: '' });
    const help = run('fluxgate', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: fluxgate');
  });

  test('`fluxgate validate` reads a config in the directory it is run from; its exit code is the command\'s', () => {
    writeFileSync(join(work, 'fluxgate.yaml'), 'kubernetes: { mode: dry-run }\nproviders:\n  - { name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }\n');
    const valid = run('fluxgate', ['validate'], { env: env({ GITHUB_WEBHOOK_SECRET: 'npm-link-test-secret-4d1e9a' }) });
    expect(valid.code).toBe(0);
    const invalid = run('fluxgate', ['validate']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('GITHUB_WEBHOOK_SECRET');
    expect(run('fluxgate', ['--no-such-flag']).code).toBe(2);
  });

  test('`fluxgate serve` is Bun itself (the launcher execs it): SIGTERM drains and exits 0', async () => {
    writeFileSync(join(work, 'serve.yaml'), 'server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }\nkubernetes: { mode: dry-run }\nstate: { store: memory }\nproviders:\n  - { name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }\n');
    const child = Bun.spawn(['fluxgate', 'serve', '--config', 'serve.yaml'], { cwd: work, env: env({ GITHUB_WEBHOOK_SECRET: 'npm-link-test-secret-4d1e9a' }), stdout: 'ignore', stderr: 'pipe' });
    try {
      await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening');
      expect(readlinkSync(`/proc/${child.pid}/exe`)).toBe(readlinkSync(`/proc/${process.pid}/exe`));
      child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

test('where Bun was never installed (no node_modules), the command says to run npm install', () => {
  const bare = join(scratch.path, 'not-installed');
  mkdirSync(join(bare, 'bin'), { recursive: true });
  copyFileSync(join(root, packageJson.bin.fluxgate), join(bare, packageJson.bin.fluxgate));
  const result = run(join(bare, packageJson.bin.fluxgate), ['version'], { env: { PATH: basePath, HOME: home } });
  expect(result).toEqual({ code: 127, stdout: '', stderr: `fluxgate: Bun is not installed in ${bare}/node_modules: run \`npm install\` in ${bare}\n` });
});
