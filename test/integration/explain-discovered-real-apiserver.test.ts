/**
 * `fluxgate explain --discovered` against a REAL kube-apiserver: it lists what discovery would watch and says
 * which objects a push would reconcile, and why each near miss would not (another branch, suspended, a pinned
 * commit) — the same rules as the webhook path, with one read-only LIST instead of a watch.
 */
import { afterAll, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { runExplain } from '../../src/commands/explain.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { tempDir } from '../support/temp-dir.ts';
import { GITHUB_SECRET, applyAll, freshNamespace } from './support.ts';

let cluster: TestCluster;
const dir = tempDir();
clusterForFile((started) => void (cluster = started));
afterAll(() => dir.remove());

const repository = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  metadata: { name, namespace },
  spec: { url: 'https://github.com/your-org/your-repo.git', interval: '10m', ...spec },
});

test('a push to main: the objects that follow it, and why the others do not', async () => {
  const ns = await freshNamespace(cluster, 'explain');
  await applyAll(cluster, [
    repository(ns, 'main', { ref: { branch: 'main' } }),
    repository(ns, 'dev', { ref: { branch: 'dev' } }),
    repository(ns, 'paused', { ref: { branch: 'main' }, suspend: true }),
    repository(ns, 'pinned', { ref: { commit: 'a'.repeat(40) } }),
    repository(ns, 'elsewhere', { url: 'https://github.com/your-org/other.git', ref: { branch: 'main' } }),
  ]);
  const path = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    path,
    `kubernetes: { mode: kubeconfig, kubeconfig: ${cluster.writeKubeconfig({ token: cluster.adminToken, context: 'explain' })} }
discovery: { enabled: true, kinds: [GitRepository], namespaces: [${ns}] }
providers: [{ name: github, type: github, secret: { env: GH } }]
`,
  );
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExplain({ path, builtins: builtinProviders, env: { HOME: dir.path, GH: GITHUB_SECRET }, provider: 'github', repository: 'your-org/your-repo', branch: 'main', discovered: true, output: 'text' }, (line) => out.push(line), (line) => err.push(line));
  expect({ code, err }).toEqual({ code: 0, err: [] });
  const text = out.join('\n');
  expect(text).toContain('discovered (listed from the clusters): 1 would be reconciled');
  expect(text).toContain(`✓ GitRepository ${ns}/main`);
  for (const name of ['dev', 'paused', 'pinned']) expect(text).toMatch(new RegExp(`✗ GitRepository ${ns}/${name}: `));
  expect(text).not.toContain(`${ns}/elsewhere`);
  expect(text).toMatch(/suspend/);
}, 60_000);

test('--discovered without discovery in the config says what is missing', async () => {
  const path = join(dir.path, 'plain.yaml');
  writeFileSync(path, 'kubernetes: { mode: dry-run }\nproviders: [{ name: github, type: github, secret: { env: GH } }]\n');
  const err: string[] = [];
  const code = await runExplain({ path, builtins: builtinProviders, env: { HOME: dir.path, GH: GITHUB_SECRET }, repository: 'your-org/your-repo', branch: 'main', discovered: true, output: 'text' }, () => {}, (line) => err.push(line));
  expect(code).toBe(2);
  expect(err[0]).toStartWith('error: --discovered needs discovery: { enabled: true }');
});
