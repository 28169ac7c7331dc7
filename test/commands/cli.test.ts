/** The command line as a user meets it: a separate process, its output and its exit code. */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFluxgate } from '../support/cli.ts';
import { runIsolated } from '../support/isolated-cli.ts';
import { tempDir } from '../support/temp-dir.ts';

// Each test starts fluxgate processes; on a busy machine that takes longer than bun's default 5 s.
setDefaultTimeout(30_000);

const dir = tempDir();
afterAll(() => dir.remove());
const example = join(import.meta.dir, '..', '..', 'config.example.yaml');
const secrets = { GITHUB_WEBHOOK_SECRET: 'b1f0c9d2e7a4', GITLAB_WEBHOOK_TOKEN: '5e8d2a7c1f93' };

/** A fresh working directory (no fluxgate.yaml unless the test writes one). */
function workdir(name: string): string {
  const path = join(dir.path, name);
  mkdirSync(path, { recursive: true });
  return path;
}

describe('fluxgate validate', () => {
  test('accepts config.example.yaml, counting in the right number, and says how serve would reach Kubernetes', async () => {
    const result = await runIsolated(['validate', '--config', example], { cwd: workdir('example'), env: secrets });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${example}: ok (2 providers, 1 target; kubernetes dry-run: reconcile requests are logged, not sent)`);
    expect(result.stdout).toContain('note: no Kubernetes cluster configured');
  });

  test('FILE may be given as an argument, and is the file checked', async () => {
    const cwd = workdir('positional');
    writeFileSync(join(cwd, 'fluxgate.yaml'), 'providers: []\n'); // the default file is broken: it must not be the one read
    const result = await runIsolated(['validate', example], { cwd, env: secrets });
    expect(result.stdout).toContain(`${example}: ok`);
    expect(result.code).toBe(0);
    const broken = await runIsolated(['validate'], { cwd, env: secrets });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("fluxgate.yaml:1:12 providers: no provider: configure at least one, serve the cluster's Flux Receivers with fluxReceivers: { enabled: true }, or take events from an edge with upstream: { url, token }");
  });

  test('FILE and a different --config together is a usage error', async () => {
    const result = await runIsolated(['validate', example, '--config', 'other.yaml'], { cwd: workdir('both') });
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith('error: give the config file once: as FILE or as --config FILE\n');
  });

  test('a typo\'d key is reported with file, line, column and the key meant, and exits 1', async () => {
    const path = join(dir.path, 'typo.yaml');
    writeFileSync(path, 'providers:\n  - name: github\n    type: github\n    secert: { env: X }\n');
    const result = await runFluxgate(['validate', '--config', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${path}:4:5 providers[0].secert: unknown key "secert" (did you mean "secret"?)\n1 problem in ${path}\n`);
  });

  test('FLUXGATE_CONFIG is the default path; a missing file it names is a config problem (exit 1)', async () => {
    const result = await runIsolated(['validate'], { cwd: workdir('env-config'), env: { FLUXGATE_CONFIG: join(dir.path, 'absent.yaml') } });
    expect(result.code).toBe(1);
    // No made-up position, no raw system code: what is wrong, and what to do (with a command the user can run).
    const absent = join(dir.path, 'absent.yaml');
    expect(result.stderr.split('\n')[0]).toMatch(new RegExp(`^${absent.replace(/[.]/g, '\\.')}: cannot read config: no such file; give the path of your config \\(--config FILE\\), or write a starter one with \\S+ \\S+/main\\.ts init --provider github$`));
    expect(result.stderr).not.toContain('ENOENT');
  });

  test('./fluxgate.yaml is read when nothing else names a config', async () => {
    const cwd = workdir('default-file');
    copyFileSync(example, join(cwd, 'fluxgate.yaml'));
    const result = await runIsolated(['validate'], { cwd, env: secrets });
    expect(result.stdout).toStartWith('fluxgate.yaml: ok (2 providers, 1 target;');
    expect(result.code).toBe(0);
  });

  test('--file-only checks the file without its secrets, TLS files or cluster', async () => {
    const result = await runIsolated(['validate', '--file-only', example], { cwd: workdir('file-only') });
    expect(result.stdout).toBe(`${example}: ok (2 providers, 1 target; secrets, TLS files and Kubernetes not checked)\n`);
    expect(result.code).toBe(0);
  });
});

describe('no config file anywhere', () => {
  test.each([[[]], [['serve']], [['validate']], [['--dry-run']]])('fluxgate %p says so, shows the usage and exits 2', async (args) => {
    const result = await runIsolated(args, { cwd: workdir('nothing') });
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith('error: no config file: none given (--config FILE), $FLUXGATE_CONFIG is not set, and there is no ./fluxgate.yaml\n');
    expect(result.stderr).toContain(`Usage: fluxgate ${args[0] === 'validate' ? 'validate [options] [FILE]' : 'serve [options]'}`);
    expect(result.stdout).toBe('');
  });
});

describe('help and version everywhere', () => {
  test.each([[['--version']], [['-V']], [['version']], [['serve', '--version']], [['validate', '-V']], [['send', '--version']]])('fluxgate %p prints the version', async (args) => {
    const result = await runIsolated(args, { cwd: workdir('version') });
    expect(result).toEqual({ code: 0, stdout: 'fluxgate 0.1.0\n', stderr: '' });
  });

  test.each([
    [['-h'], 'Usage: fluxgate [options] [command]'],
    [['--help'], 'Usage: fluxgate [options] [command]'],
    [['help'], 'Usage: fluxgate [options] [command]'],
    [['serve', '-h'], 'Usage: fluxgate serve [options]'],
    [['validate', '--help'], 'Usage: fluxgate validate [options] [FILE]'],
    [['send', '-h'], 'Usage: fluxgate send [options] [URL]'],
    [['help', 'send'], 'Usage: fluxgate send [options] [URL]'],
  ])('fluxgate %p shows the usage', async (args, usage) => {
    const result = await runIsolated(args, { cwd: workdir('help') });
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith(`${usage}\n`);
    expect(result.stderr).toBe('');
  });

  test('an unknown command suggests the closest one', async () => {
    const result = await runIsolated(['servee'], { cwd: workdir('unknown') });
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith("error: unknown command 'servee'\n(Did you mean serve?)\n");
  });

  test('an unknown option is a usage error naming it', async () => {
    const result = await runIsolated(['serve', '--confg', 'x.yaml'], { cwd: workdir('unknown') });
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith("error: unknown option '--confg'\n(Did you mean --config?)\n");
  });
});

describe('FLUXGATE_LOG_LEVEL', () => {
  test.each([['serve'], ['validate']])('an invalid level is refused by %s, naming the valid ones (exit 2)', async (command) => {
    const result = await runIsolated([command, '--config', example], { cwd: workdir('level'), env: { ...secrets, FLUXGATE_LOG_LEVEL: 'verbose' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith('error: FLUXGATE_LOG_LEVEL="verbose" is not a log level: use one of debug, info, warn, error\n');
  });

  test('an empty level is the default', async () => {
    const result = await runIsolated(['validate', example], { cwd: workdir('level'), env: { ...secrets, FLUXGATE_LOG_LEVEL: '' } });
    expect(result.code).toBe(0);
  });
});

describe('fluxgate send', () => {
  test.each([
    [[], 'missing --provider-type T and URL'],
    [['http://127.0.0.1:1/hook/github'], 'missing --provider-type T'],
    [['--provider-type', 'github'], 'missing URL and --secret S (type github signs with it), or --unsigned'],
    [['--provider-type', 'gitlab', 'http://127.0.0.1:1/hook/gitlab'], 'missing --secret S or --signing-secret S (type gitlab signs with one of them)'],
    [['--provider-type', 'githab', 'http://127.0.0.1:1/'], 'unknown provider type "githab" (did you mean "github"? known: github, gitlab, bitbucket,'],
    [['--provider-type', 'gitlab', '--signing-secret', 'not-a-token', 'http://127.0.0.1:1/'], '--signing-secret: a signing secret starts with whsec_'],
    [['--provider-type', 'github', '--secret', 's3', '--branch', 'main', '--tag', 'v1', 'http://127.0.0.1:1/'], "option '--branch <branch>' cannot be used with option '--tag <tag>'"],
  ])('%p: %s (exit 2, nothing sent)', async (args, message) => {
    const result = await runIsolated(['send', ...args], { cwd: workdir('send') });
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith(`error: ${message}`);
    expect(result.stderr).toContain('Usage: fluxgate send [options] [URL]');
    expect(result.stdout).toBe('');
  });

  test('a provider that signs nothing needs no secret', async () => {
    const result = await runIsolated(['send', '--provider-type', 'generic', 'http://127.0.0.1:1/hook/generic'], { cwd: workdir('send') });
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith('cannot reach http://127.0.0.1:1/hook/generic');
  });
});

describe('fluxgate import-receivers', () => {
  test('a kubeconfig it cannot use is named by the flag given, not by a config key', async () => {
    const cwd = workdir('import');
    const missing = await runIsolated(['import-receivers', '--kubeconfig', '/missing'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('fluxgate import-receivers: kubeconfig file /missing not found (--kubeconfig)\n');
    writeFileSync(join(cwd, 'kube.yaml'), 'apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: dev, context: { cluster: c, user: u } }]\n');
    const noContext = await runIsolated(['import-receivers', '--kubeconfig', join(cwd, 'kube.yaml')], { cwd });
    expect(noContext.stderr).toContain('no current-context; set --context to one of: dev');
    expect(noContext.stderr + missing.stderr).not.toContain('kubernetes.');
  });
});

describe('fluxgate init --help', () => {
  test('an example value reads as an example, never as a default it does not have', async () => {
    const result = await runIsolated(['init', '--help'], { cwd: workdir('init-help') });
    expect(result.code).toBe(0);
    const help = result.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--url <url> the public base URL the hosts post to, for example https://hooks.example.com (without it, the URLs printed say https://YOUR-HOST)');
    expect(help).not.toContain('(https://hooks.example.com)');
    // The real defaults are shown as commander shows defaults.
    expect(help).toContain('(default: "your-org/your-fleet-repo")');
  });
});
