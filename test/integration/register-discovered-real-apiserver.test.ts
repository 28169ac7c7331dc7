/**
 * `register: { repositories: discovered }` against a REAL kube-apiserver and the fake GitHub: the repositories
 * kept in line are those the cluster's GitRepositories and Argo CD Applications point at on that host — in any URL
 * spelling, each once — and none of another host's.
 */
import { afterAll, afterEach, beforeEach, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { runRegister } from '../../src/commands/register.ts';
import { startFakeGitHub, type FakeGitHub } from '../support/git-hosts/fake-github.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { tempDir } from '../support/temp-dir.ts';
import { applyAll, freshNamespace } from './support.ts';

const TOKEN = 'ghp_discovered0a1b2c3d4e5f';
const SECRET = 'gh-hook-discovered-7a1c';
let cluster: TestCluster;
let github: FakeGitHub;
const dir = tempDir();
clusterForFile((started) => void (cluster = started));
afterAll(() => dir.remove());
beforeEach(() => {
  github = startFakeGitHub({ tokens: { [TOKEN]: { scopes: 'admin:repo_hook' } } });
});
afterEach(() => github.stop());

test("the repositories the Flux sources point at on this host get the hook; another host's do not", async () => {
  const ns = await freshNamespace(cluster, 'register');
  // The fake GitHub serves its API at 127.0.0.1, like a GitHub Enterprise Server whose web and API share a host.
  const gitRepository = (name: string, url: string) => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name, namespace: ns }, spec: { url, interval: '10m', ref: { branch: 'main' } } });
  await applyAll(cluster, [
    gitRepository('app', 'https://127.0.0.1/acme/app.git'),
    gitRepository('app-ssh', 'ssh://git@127.0.0.1/acme/app.git'),
    gitRepository('infra', 'git@127.0.0.1:acme/infra.git'),
    gitRepository('elsewhere', 'https://gitlab.com/acme/other.git'),
    { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'web', namespace: ns }, spec: { project: 'default', source: { repoURL: 'https://127.0.0.1/acme/web', path: '.', targetRevision: 'HEAD' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'web' } } },
  ]);
  const path = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    path,
    `server: { publicUrl: https://fluxgate.example.com }
kubernetes: { mode: kubeconfig, kubeconfig: ${cluster.writeKubeconfig({ token: cluster.adminToken, context: 'register' })} }
discovery: { enabled: true, namespaces: [${ns}] }
providers:
  - name: github
    type: github
    secret: { env: GH_SECRET }
    register: { token: { env: GH_TOKEN }, apiUrl: ${github.origin}, repositories: discovered }
`,
  );
  const out: string[] = [];
  const err: string[] = [];
  const run = () => runRegister({ path, builtins: builtinProviders, env: { HOME: dir.path, GH_SECRET: SECRET, GH_TOKEN: TOKEN } }, { now: () => Date.now(), sleep: async () => {} }, (line) => out.push(line), (line) => err.push(line));
  const code = await run();
  expect({ code, err }).toEqual({ code: 0, err: [] });
  for (const repository of ['acme/app', 'acme/infra', 'acme/web']) {
    expect({ repository, hooks: github.hooks(`repos/${repository}`).map((hook: { config: { url: string } }) => hook.config.url) }).toEqual({ repository, hooks: ['https://fluxgate.example.com/hook/github'] });
  }
  expect(github.hooks('repos/acme/other')).toEqual([]);
  expect(out.join('\n')).not.toContain('acme/other');
  out.length = 0;
  expect(await run()).toBe(0); // a second run changes nothing
  expect(out.join('\n')).toContain('unchanged');
}, 60_000);
