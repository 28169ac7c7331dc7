/**
 * `fluxgate init` as a user runs it: the starter config and the env file it writes (0600, strong secrets, never
 * printed), what it tells to paste into each Git host, and that the result works end to end: serve runs the
 * config with the env file's secrets, and a delivery signed by each host with its secret is accepted (202).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runIsolated, startIsolatedServe } from '../support/isolated-cli.ts';
import { tempDir } from '../support/temp-dir.ts';

setDefaultTimeout(60_000);

const scratch = tempDir('fluxgate-init-');
afterAll(() => scratch.remove());
const HOSTS = ['github', 'gitlab', 'gitea', 'gogs', 'bitbucket', 'bitbucket-server'];

function readEnv(path: string): Record<string, string> {
  return Object.fromEntries(readFileSync(path, 'utf8').split('\n').filter((line) => line && !line.startsWith('#')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('fluxgate init', () => {
  const dir = join(scratch.path, 'every-host');
  let stdout = '';

  test('writes a config and a 0600 env file with a strong secret per host, and prints where each goes', async () => {
    const run = await runIsolated(['init', '--provider', HOSTS.join(','), '--repository', 'acme/fleet', '--url', 'https://hooks.example.com', '--dir', dir], { cwd: scratch.path });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    stdout = run.stdout;
    expect(mode(join(dir, 'fluxgate.env'))).toBe('600');
    const env = readEnv(join(dir, 'fluxgate.env'));
    const secrets = Object.values(env);
    expect(Object.keys(env)).toHaveLength(HOSTS.length);
    for (const secret of secrets) expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
    const config = readFileSync(join(dir, 'fluxgate.yaml'), 'utf8');
    for (const name of Object.keys(env)) expect(config).toContain(`secret: { env: ${name} }`);
    for (const secret of secrets) {
      expect(config).not.toContain(secret);
      expect(stdout).not.toContain(secret);
    }
    for (const host of HOSTS) expect(stdout).toContain(`https://hooks.example.com/hook/${host}\n`);
    expect(stdout).toContain('Content type:               application/json');
    expect(stdout).toContain('Secret token:               the value of GITLAB_WEBHOOK_TOKEN in the env file');
  });

  test('the written config validates with the env file, and each host\'s signed push is accepted', async () => {
    const env = readEnv(join(dir, 'fluxgate.env'));
    const configPath = join(dir, 'fluxgate.yaml');
    const validate = await runIsolated(['validate', configPath], { cwd: dir, env });
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain(`ok (${HOSTS.length} providers, 1 target`);
    // The same config on a free loopback port; no cluster on this "machine", so it runs in dry-run.
    writeFileSync(join(dir, 'loopback.yaml'), readFileSync(configPath, 'utf8').replace('address: 0.0.0.0:9292', 'address: 127.0.0.1:0'));
    const serve = await startIsolatedServe(['--config', 'loopback.yaml'], { cwd: dir, env });
    try {
      const variable = (host: string) => readFileSync(configPath, 'utf8').match(new RegExp(`name: ${host}\\n    type: ${host}\\n    secret: \\{ env: (\\w+) \\}`))![1]!;
      for (const host of HOSTS) {
        const sent = await runIsolated(['send', '--provider-type', host, '--secret', env[variable(host)]!, '--repository', 'acme/fleet', '--branch', 'main', `${serve.url}/hook/${host}`], { cwd: dir });
        expect({ host, answer: sent.stdout.split('\n')[0] }).toEqual({ host, answer: '202 Accepted' });
      }
      const wrong = await runIsolated(['send', '--provider-type', 'github', '--secret', 'not-the-secret', '--repository', 'acme/fleet', `${serve.url}/hook/github`], { cwd: dir });
      expect(wrong.stdout).toStartWith('401 ');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  test('never overwrites without --force; with it, new secrets and the env file back to 0600', async () => {
    const target = join(scratch.path, 'again');
    expect((await runIsolated(['init', '--provider', 'github', '--dir', target], { cwd: scratch.path })).code).toBe(0);
    const before = readFileSync(join(target, 'fluxgate.env'), 'utf8');
    const refused = await runIsolated(['init', '--provider', 'github', '--dir', target], { cwd: scratch.path });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exist');
    expect(readFileSync(join(target, 'fluxgate.env'), 'utf8')).toBe(before);

    chmodSync(join(target, 'fluxgate.env'), 0o644);
    const forced = await runIsolated(['init', '--provider', 'github', '--dir', target, '--force'], { cwd: scratch.path });
    expect(forced.code).toBe(0);
    expect(mode(join(target, 'fluxgate.env'))).toBe('600');
    expect(readFileSync(join(target, 'fluxgate.env'), 'utf8')).not.toBe(before);
  });

  test('an unknown or missing provider is a usage error that names the right one', async () => {
    const typo = await runIsolated(['init', '--provider', 'githb', '--dir', join(scratch.path, 'typo')], { cwd: scratch.path });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('"githb" (did you mean "github"?)');
    const none = await runIsolated(['init', '--dir', join(scratch.path, 'none')], { cwd: scratch.path });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name at least one --provider');
  });
});
