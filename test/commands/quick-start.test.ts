/**
 * README's quick start, as `npm start` runs it (config.example.yaml, placeholder secrets `change-me`), on a
 * machine without a cluster and on one with a kubeconfig. The example is copied to listen on port 0.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { mainScript } from '../support/cli.ts';
import { runIsolated, startIsolatedServe } from '../support/isolated-cli.ts';
import { tempDir } from '../support/temp-dir.ts';

// Each test starts fluxgate processes; on a busy machine that takes longer than bun's default 5 s.
setDefaultTimeout(30_000);

const root = join(import.meta.dir, '..', '..');
const example = readFileSync(join(root, 'config.example.yaml'), 'utf8');
const placeholders = { GITHUB_WEBHOOK_SECRET: 'change-me', GITLAB_WEBHOOK_TOKEN: 'change-me' };
const scratch = tempDir();
afterAll(() => scratch.remove());

function machine(name: string, withKubeconfig: boolean): string {
  const home = join(scratch.path, name);
  mkdirSync(join(home, '.kube'), { recursive: true });
  if (withKubeconfig) {
    writeFileSync(join(home, '.kube', 'config'), [
      'apiVersion: v1', 'kind: Config', 'current-context: prod',
      'clusters: [{ name: prod, cluster: { server: "https://10.0.0.1:6443" } }]',
      'users: [{ name: admin, user: { token: prod-token-9e1d } }]',
      'contexts: [{ name: prod, context: { cluster: prod, user: admin } }]', '',
    ].join('\n'));
  }
  writeFileSync(join(home, 'fluxgate.yaml'), example.replace('address: 127.0.0.1:9292', 'address: 127.0.0.1:0').replace('adminAddress: 127.0.0.1:9293', 'adminAddress: 127.0.0.1:0'));
  return home;
}

/**
 * README's `send` example after "Try it from another terminal": the command's arguments after `src/main.ts` and the
 * output it shows as `# ` lines below it.
 */
function readmeSend(): { args: string[]; output: string[] } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /Try it from another terminal:\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README has no send example after "Try it from another terminal:"');
  const lines = block.trimEnd().split('\n');
  const command = lines.filter((line) => !line.startsWith('#')).join(' ').replace(/\\ +/g, '');
  const words = command.split(/\s+/).filter(Boolean);
  return { args: words.slice(words.indexOf('src/main.ts') + 1), output: lines.filter((line) => line.startsWith('# ')).map((line) => line.slice(2)) };
}

/** A line README shows, as a pattern: `…` stands for any text. */
const shownAs = (line: string) => new RegExp(`^${line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);

describe('quick start', () => {
  test('npm start runs config.example.yaml with placeholder secrets on loopback', () => {
    expect(packageJson.scripts.start).toContain('--config config.example.yaml');
    expect(packageJson.scripts.start).toContain('GITHUB_WEBHOOK_SECRET=${GITHUB_WEBHOOK_SECRET:-change-me}');
    expect(example).toContain('  address: 127.0.0.1:9292\n');
  });

  test('with no cluster it serves in dry-run, and the README\'s send prints what README shows', async () => {
    const home = machine('no-cluster', false);
    const { args, output } = readmeSend();
    const serve = await startIsolatedServe(['--config', 'fluxgate.yaml'], { cwd: home, env: placeholders });
    try {
      const sent = await runIsolated(args.map((arg) => arg.replace('http://127.0.0.1:9292', serve.url)), { cwd: home });
      expect(sent.code).toBe(0);
      const printed = sent.stdout.trimEnd().split('\n');
      expect(printed).toHaveLength(output.length);
      printed.forEach((line, index) => expect(line).toMatch(shownAs(output[index]!)));
      expect(serve.lines.join('\n')).toContain('running in dry-run, reconcile requests are logged, not sent');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  test('with a kubeconfig it refuses to start, says what to set, and never echoes a secret', async () => {
    const home = machine('with-kubeconfig', true);
    const result = await runIsolated(['serve', '--config', 'fluxgate.yaml'], { cwd: home, env: placeholders, guardMs: 20_000 });
    expect(result.code).toBe(1);
    const kubeconfig = `${join(home, '.kube', 'config')} (context prod) → https://10.0.0.1:6443`;
    const escaped = (text: string) => text.replace(/[.()+$]/g, '\\$&');
    expect(result.stderr.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^fluxgate\\.yaml:\\d+:\\d+ providers\\[0\\]\\.secret: environment variable GITHUB_WEBHOOK_SECRET holds a placeholder, not a secret, and fluxgate would send reconcile requests \\(kubernetes kubeconfig: ${escaped(kubeconfig)}\\): set GITHUB_WEBHOOK_SECRET to the real secret, or try fluxgate without a cluster: ${escaped(`${root}/node_modules/.bin/bun ${mainScript} serve --config fluxgate.yaml --dry-run`)}$`)),
      expect.stringContaining('providers[1].secret: environment variable GITLAB_WEBHOOK_TOKEN holds a placeholder'),
      '2 problems in fluxgate.yaml',
      '',
    ]);
    expect(result.stderr).not.toContain('change-me');
    expect(result.stderr).not.toContain('prod-token-9e1d');
  });

  test('under npm start, with a kubeconfig, the refusal names the command to run: npm start -- --dry-run', async () => {
    const home = machine('npm-start', true);
    const inherited = Object.fromEntries(['PATH', 'TMPDIR', 'LANG'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
    const child = Bun.spawn(['npm', 'start', '--silent'], { cwd: root, env: { ...inherited, HOME: home, npm_config_update_notifier: 'false' }, stdout: 'pipe', stderr: 'pipe' });
    const guard = setTimeout(() => child.kill(), 25_000);
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    clearTimeout(guard);
    expect(code).not.toBe(0);
    expect(stderr).toContain('providers[0].secret: environment variable GITHUB_WEBHOOK_SECRET holds a placeholder');
    expect(stderr).toContain('or try fluxgate without a cluster: npm start -- --dry-run\n');
    expect(stderr).not.toContain('fluxgate serve --dry-run');
  });

  test('with a kubeconfig, --dry-run serves without touching the cluster', async () => {
    const home = machine('dry-run-flag', true);
    const serve = await startIsolatedServe(['--config', 'fluxgate.yaml', '--dry-run'], { cwd: home, env: placeholders });
    expect(serve.lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'kubernetes')).toMatchObject({ mode: 'dry-run' });
    expect(await serve.stop()).toBe(0);
  });
});
