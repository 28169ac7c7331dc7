/**
 * A provider loaded at run time from `pluginsDir` — the worked example in docs/examples/acme.ts — serves signed
 * deliveries both when fluxgate runs from source and as the compiled single binary, with the same kit.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHmac, randomUUID } from 'node:crypto';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fluxgateArgs, waitForLogLine } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const root = join(import.meta.dir, '..', '..');
const SECRET = 'acme-runtime-secret-5f0e';
const work = tempDir();
let binary: string;

beforeAll(async () => {
  // The example outside the repository, as a user's pluginsDir: its type-only import path leads nowhere there.
  cpSync(join(root, 'docs', 'examples', 'acme.ts'), join(work.path, 'plugins-acme.ts'));
  writeFileSync(
    join(work.path, 'fluxgate.yaml'),
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
pluginsDir: .
providers:
  - { name: acme, type: acme, secret: { env: ACME_SECRET } }
targets:
  - name: app
    providers: [acme]
    match: { repository: acme-org/app, branches: [main], paths: ["deploy/**"] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
  );
  // Built the way it ships (scripts/build.ts: bytecode, code splitting).
  binary = join(work.path, 'fluxgate');
  const build = Bun.spawnSync([process.execPath, join(root, 'scripts', 'build.ts'), '--outdir', work.path], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
  if (build.exitCode !== 0) throw new Error(`bun build failed: ${build.stderr.toString()}`);
}, 120_000);

afterAll(() => work.remove());

/** Starts `command serve` in the plugin's directory, posts a signed push and a badly signed one, and stops it. */
async function exercise(command: string[]): Promise<{ good: number; bad: number; unwatched: string; exit: number }> {
  const child = Bun.spawn([...command, 'serve', '--config', join(work.path, 'fluxgate.yaml')], { cwd: work.path, env: { PATH: process.env.PATH ?? '', HOME: work.path, ACME_SECRET: SECRET }, stdout: 'ignore', stderr: 'pipe' });
  try {
    const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening');
    const url = `http://${listening.address}/hook/acme`;
    const post = (body: string, secret: string) =>
      fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-acme-event': 'push', 'x-acme-delivery': randomUUID(), 'x-acme-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` },
      });
    const push = (paths: string[]) =>
      JSON.stringify({ repository: { full_name: 'acme-org/app', clone_url: 'https://git.acme.example/acme-org/app.git' }, ref: 'refs/heads/main', after: 'a'.repeat(40), commits: [{ added: [], modified: paths, removed: [] }] });
    const good = (await post(push(['deploy/app.yaml']), SECRET)).status;
    const bad = (await post(push(['deploy/app.yaml']), 'wrong')).status;
    const unwatched = ((await (await post(push(['docs/readme.md']), SECRET)).json()) as { ignored: string }).ignored;
    child.kill('SIGTERM');
    return { good, bad, unwatched, exit: await child.exited };
  } finally {
    child.kill();
  }
}

describe('a runtime provider from pluginsDir (docs/examples/acme.ts)', () => {
  const expected = { good: 202, bad: 401, unwatched: 'no target matched (app: no changed path matches [deploy/**])', exit: 0 };

  test('from source (bun src/main.ts)', async () => {
    expect(await exercise(fluxgateArgs())).toEqual(expected);
  });

  test('in the compiled binary', async () => {
    expect(await exercise([binary])).toEqual(expected);
  }, 30_000);
});
