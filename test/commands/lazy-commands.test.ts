/**
 * Each command is loaded when it runs, and only what it needs with it: the commands that read a config or print
 * something never load the HTTP server (nor the store, reconcile and the observers the gateway wires), so they
 * start fast and work where serving could not.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test';
import { join } from 'node:path';
import { mainScript } from '../support/cli.ts';

setDefaultTimeout(30_000);

const root = join(import.meta.dir, '..', '..');
const tracer = join(import.meta.dir, '..', 'support', 'trace-loads.ts');
const example = join(root, 'config.example.yaml');
const secrets = { GITHUB_WEBHOOK_SECRET: 'b1f0c9d2e7a4', GITLAB_WEBHOOK_TOKEN: '5e8d2a7c1f93' };

/** Runs bun with the tracer; the folders of src/ whose modules were loaded, and the exit code. */
async function loadedFolders(args: string[]): Promise<{ code: number; folders: string[] }> {
  const child = Bun.spawn([process.execPath, '--preload', tracer, ...args], { cwd: root, env: { ...process.env, ...secrets, FLUXGATE_CONFIG: '' }, stdout: 'pipe', stderr: 'pipe' });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  const folders = new Set(stderr.split('\n').flatMap((line) => /^loaded .*\/src\/([^/]+)\/[^/]+\.ts$/.exec(line)?.slice(1) ?? []));
  return { code, folders: [...folders].sort() };
}

describe('commands load only what they need', () => {
  test('the tracer sees a module of src/http/ when one is loaded', async () => {
    const { code, folders } = await loadedFolders(['-e', `await import(${JSON.stringify(join(root, 'src', 'http', 'index.ts'))})`]);
    expect(code).toBe(0);
    expect(folders).toContain('http');
  });

  const quiet: [string, string[]][] = [
    ['validate', ['validate', example]],
    ['validate --file-only', ['validate', '--file-only', example]],
    ['version', ['version']],
    ['send (a usage error)', ['send', 'http://127.0.0.1:1/hook/github']],
    ['init (a usage error)', ['init', '--provider', 'nope']],
  ];
  for (const [name, args] of quiet) {
    test(`${name} loads neither the HTTP server nor the store, reconcile or the observers`, async () => {
      const { code, folders } = await loadedFolders([mainScript, ...args]);
      expect(code).toBe(name.includes('usage') ? 2 : 0);
      for (const folder of ['http', 'store', 'reconcile', 'observe']) expect(folders).not.toContain(folder);
    });
  }
});
