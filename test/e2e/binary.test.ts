/**
 * The compiled binary itself, as a VM or container runs it: built by scripts/build.ts (or the one named by
 * $FLUXGATE_BINARY, which CI builds with `npm run build`), run from a directory with no checkout and no
 * node_modules, with a HOME and environment of its own. validate, serve in dry-run, a signed `send` from the
 * same binary answered 202, /metrics with the stamped version, SIGTERM and exit 0; every built-in type, and
 * `register` on GitHub, GitLab and Gitea with the host clients the binary loads on first use; a Flux Receiver's
 * resourceFilter evaluated by the CEL worker built into the binary, against a real API server. Then the arm64
 * cross build.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, openSync, readSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { builtinProviders } from '../../plugins/index.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { waitForLogLine } from '../support/cli.ts';
import { startFakeGitea } from '../support/git-hosts/fake-gitea.ts';
import { startFakeGitHub } from '../support/git-hosts/fake-github.ts';
import { startFakeGitLab } from '../support/git-hosts/fake-gitlab.ts';
import { startTestCluster } from '../support/kube-apiserver/cluster.ts';
import { tempDir } from '../support/temp-dir.ts';

// Compiling takes 5-15 s on two shared cores; a first cross build also fetches Bun's arm64 runtime.
setDefaultTimeout(180_000);

const root = resolve(import.meta.dir, '..', '..');
const bun = process.execPath;
const SECRET = 'binary-smoke-9c1f2e7a54d3';
const scratch = tempDir('fluxgate-binary-');
let binary = '';
/** What scripts/build.ts printed for the binary under test; empty when $FLUXGATE_BINARY was given. */
let built = '';

function git(...args: string[]): string {
  return spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout.trim();
}

/** The version scripts/build.ts stamps for this checkout: version+HEAD, `.dirty` when tracked files changed. */
function expectedVersion(): RegExp {
  const head = git('rev-parse', '--short=12', 'HEAD');
  return new RegExp(`^${packageJson.version.replaceAll('.', '\\.')}\\+${head}(\\.dirty)?$`);
}

/** Runs scripts/build.ts; returns what it prints (a line per file written). */
function buildInto(outdir: string, ...args: string[]): string {
  const run = spawnSync(bun, [join(root, 'scripts', 'build.ts'), '--outdir', outdir, ...args], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scripts/build.ts failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** Nothing from this machine's environment but PATH: no KUBECONFIG, no FLUXGATE_CONFIG, a HOME without .kube. */
function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch.path, ...extra };
}

function run(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(binary, args, { cwd: scratch.path, env: isolatedEnv(env), encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const given = process.env.FLUXGATE_BINARY;
  binary = join(scratch.path, 'fluxgate');
  if (given) copyFileSync(resolve(root, given), binary);
  else built = buildInto(scratch.path);
  writeFileSync(
    join(scratch.path, 'fluxgate.yaml'),
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }
targets:
  - name: fleet
    providers: [github]
    match: { repository: your-org/fleet, branches: [main] }
    resources: [{ kind: GitRepository, name: flux-system, namespace: flux-system }]
`,
  );
});
afterAll(() => scratch.remove());

describe('the compiled binary, outside the checkout', () => {
  test('version carries the package version and the commit it was built from', () => {
    const result = run(['version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().replace(/^fluxgate /, '')).toMatch(expectedVersion());
    expect(run(['--version']).stdout).toBe(result.stdout);
  });

  test("README's size of the binary is the built one's (within 3 MiB: it grows a little with each feature), in the line the build prints", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const stated = /one executable with Bun's runtime inside \(about (\d+) MiB/.exec(readme);
    const quoted = /`npm run build` prints each file it writes: `([^`]+)`/.exec(readme);
    expect(stated).not.toBeNull();
    expect(quoted).not.toBeNull();
    const mib = statSync(binary).size / 1048576;
    expect(Math.abs(mib - Number(stated![1]))).toBeLessThanOrEqual(3);
    // The quoted line has the shape of the build's own (commit and size vary).
    const shape = (line: string) => line.replace(/^\S*\/?fluxgate /, 'fluxgate ').replace(/commit [0-9a-f.dirty]+/, 'commit C').replace(/[\d.]+ MiB/, 'N MiB');
    if (built) expect(shape(built.trim())).toBe(shape(quoted![1]!));
  });

  test('validate checks the config and its secret', () => {
    const missing = run(['validate', 'fluxgate.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('GITHUB_WEBHOOK_SECRET');
    const ok = run(['validate', 'fluxgate.yaml'], { GITHUB_WEBHOOK_SECRET: SECRET });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  test('serve in dry-run: a signed send gets 202, /metrics shows it and the build, SIGTERM exits 0', async () => {
    const child = Bun.spawn([binary, 'serve', '--config', 'fluxgate.yaml'], { cwd: scratch.path, env: isolatedEnv({ GITHUB_WEBHOOK_SECRET: SECRET }), stdout: 'ignore', stderr: 'pipe' });
    const lines: string[] = [];
    try {
      const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening', lines);
      const base = `http://${listening.address}`;
      const sent = run(['send', '--provider-type', 'github', '--secret', SECRET, '--repository', 'your-org/fleet', '--branch', 'main', `${base}/hook/github`]);
      expect(sent.stdout).toStartWith('202 Accepted\n');
      expect(sent.code).toBe(0);
      const metrics = await (await fetch(`http://${listening.admin}/metrics`)).text();
      const stamped = metrics.match(/^fluxgate_build_info\{version="([^"]+)"\} 1$/m);
      expect(stamped?.[1]).toMatch(expectedVersion());
      expect(metrics).toMatch(/^fluxgate_webhook_requests_total\{provider="github",type="github",event="push",outcome="accepted"\} 1$/m);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await child.exited).toBe(0);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  test('carries every built-in type: send names them all', () => {
    const unknown = run(['send', '--provider-type', 'no-such-type', 'http://127.0.0.1:9/hook/x']);
    const known = /known: ([^)]*)\)/.exec(unknown.stderr)?.[1]?.split(', ');
    expect(known).toEqual(builtinProviders.map((builtin) => builtin.default(providerKit).id));
  });

  test('register keeps the hooks on GitHub, GitLab and Gitea, each client loaded from inside the binary', async () => {
    const github = startFakeGitHub({ tokens: { 'gh-token': { scopes: 'admin:repo_hook', admin: ['repos/acme/app'] } } });
    const gitlab = startFakeGitLab({ tokens: { 'gl-token': {} } });
    const gitea = startFakeGitea({ tokens: { 'gitea-token': {} } });
    try {
      writeFileSync(
        join(scratch.path, 'register.yaml'),
        `server: { publicUrl: https://fluxgate.example.com }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: S }, register: { token: { env: GH }, apiUrl: "${github.origin}", repositories: [acme/app] } }
  - { name: gitlab, type: gitlab, secret: { env: S }, register: { token: { env: GL }, apiUrl: "${gitlab.origin}", projects: [acme/app] } }
  - { name: gitea, type: gitea, secret: { env: S }, register: { token: { env: GT }, apiUrl: "${gitea.origin}", repositories: [acme/app] } }
`,
      );
      // Spawned, not run synchronously: the fake hosts answer on this process's event loop.
      const child = Bun.spawn([binary, 'register', '--config', 'register.yaml'], { cwd: scratch.path, env: isolatedEnv({ S: SECRET, GH: 'gh-token', GL: 'gl-token', GT: 'gitea-token' }), stdout: 'pipe', stderr: 'pipe' });
      const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
      expect({ code, stderr, summary: stdout.trim().split('\n').at(-1) }).toEqual({ code: 0, stderr: '', summary: 'created 3, updated 0, removed 0; 0 unchanged' });
      expect(github.hooks('repos/acme/app').map((hook) => hook.config.url)).toEqual(['https://fluxgate.example.com/hook/github']);
      expect(gitlab.hooks('projects/acme/app').map((hook) => hook.url)).toEqual(['https://fluxgate.example.com/hook/gitlab']);
      expect(gitea.hooks('repos/acme/app').map((hook) => hook.config.url)).toEqual(['https://fluxgate.example.com/hook/gitea']);
    } finally {
      await Promise.all([github.stop(), gitlab.stop(), gitea.stop()]);
    }
  });
});

test('fluxReceivers: a resourceFilter is evaluated by the CEL worker built into the binary', async () => {
  const cluster = await startTestCluster();
  const child = { process: undefined as ReturnType<typeof Bun.spawn> | undefined };
  try {
    const ns = 'binary-cel';
    const labels = { team: 'web' };
    const repository = (name: string) => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name, namespace: ns, labels }, spec: { url: `https://example.invalid/${name}.git`, interval: '10m', ref: { branch: 'main' } } });
    for (const manifest of [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'receiver-token', namespace: ns }, data: { token: Buffer.from('binary-cel-token').toString('base64') } },
      repository('frontend'),
      repository('backend'),
      { apiVersion: 'notification.toolkit.fluxcd.io/v1', kind: 'Receiver', metadata: { name: 'ci', namespace: ns }, spec: { type: 'generic', secretRef: { name: 'receiver-token' }, resources: [{ kind: 'GitRepository', name: '*', matchLabels: labels }], resourceFilter: 'req.component == res.metadata.name' } },
    ]) await cluster.apply(manifest);
    const kubeconfig = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'binary' });
    writeFileSync(join(scratch.path, 'receivers.yaml'), `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }\nkubernetes: { mode: kubeconfig, kubeconfig: ${kubeconfig} }\nfluxReceivers: { enabled: true, namespaces: [${ns}] }\n`);
    child.process = Bun.spawn([binary, 'serve', '--config', 'receivers.yaml'], { cwd: scratch.path, env: isolatedEnv(), stdout: 'ignore', stderr: 'pipe' });
    const listening = await waitForLogLine(child.process.stderr as ReadableStream<Uint8Array>, (line) => line.msg === 'fluxgate listening');
    const hook = `http://${listening.address}/hook/${new Bun.CryptoHasher('sha256').update(`binary-cel-token${'ci'}${ns}`).digest('hex')}`;
    const deliver = () => fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"component": "backend"}' });
    for (let answer = await deliver(); answer.status !== 202; answer = await deliver()) await Bun.sleep(100); // until the Receiver is served
    const annotations = async (name: string) => ((await cluster.get('source.toolkit.fluxcd.io/v1', 'gitrepositories', ns, name)).metadata.annotations ?? {}) as Record<string, string>;
    for (let waited = 0; !(await annotations('backend'))['reconcile.fluxcd.io/requestedAt']; waited += 100) {
      if (waited > 30_000) throw new Error('backend was not patched');
      await Bun.sleep(100);
    }
    expect(await annotations('frontend')).not.toHaveProperty(['reconcile.fluxcd.io/requestedAt']);
  } finally {
    child.process?.kill('SIGTERM');
    await child.process?.exited;
    await cluster.stop();
  }
});

/** e_machine from an ELF header: 0x3e x86-64, 0xb7 AArch64. */
function elfMachine(path: string): number {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return header.readUInt16LE(18);
}

test('the linux-arm64 cross build is an AArch64 executable with the same stamp', () => {
  const outdir = join(scratch.path, 'cross');
  buildInto(outdir, '--target', 'linux-arm64', '--commit', '0123456789ab');
  const path = join(outdir, 'fluxgate-linux-arm64');
  expect(elfMachine(path)).toBe(0xb7);
  expect(readFileSync(path).includes('0123456789ab')).toBe(true);
});
