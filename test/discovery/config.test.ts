/**
 * `discovery:`, `clusters:` and `targets[].clusters` as `validate` (and so `serve`) reads them: defaults, every
 * rule with its located message, and each cluster's kubeconfig resolved at its own key.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { builtinProviders } from '../../plugins/index.ts';
import { loadConfigFile } from '../../src/app/load-config.ts';
import { runValidate } from '../../src/commands/validate.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());
const env = { HOME: dir.path, GITHUB_WEBHOOK_SECRET: 'a-real-secret-for-tests-1f3c' };

function kubeconfig(name: string, server: string): string {
  const path = join(dir.path, `${name}.yaml`);
  writeFileSync(path, toYaml({
    apiVersion: 'v1', kind: 'Config', 'current-context': name,
    clusters: [{ name, cluster: { server } }], users: [{ name, user: { token: 't' } }], contexts: [{ name, context: { cluster: name, user: name } }, { name: `${name}-other`, context: { cluster: name, user: name } }],
  }));
  return path;
}

function write(config: Record<string, unknown>): string {
  const path = join(dir.path, `fluxgate-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, toYaml({ providers: [{ name: 'github', type: 'github', secret: { env: 'GITHUB_WEBHOOK_SECRET' } }], ...config }));
  return path;
}

async function validate(config: Record<string, unknown>): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runValidate({ path: write(config), builtins: builtinProviders, env }, (line) => out.push(line), (line) => err.push(line));
  return { code, out, err: err.flatMap((text) => text.split('\n')).map((line) => line.replace(/^\S*?\.yaml:/, '')) };
}

describe('discovery:', () => {
  test('off by default; { enabled: true } alone is enough, without any target', async () => {
    const off = await loadConfigFile({ path: write({ kubernetes: { mode: 'dry-run' } }), builtins: builtinProviders, env });
    expect(off.config.discovery).toEqual({ enabled: false });
    const on = await validate({ kubernetes: { mode: 'dry-run' }, discovery: { enabled: true } });
    expect(on).toMatchObject({ code: 0, out: [expect.stringContaining(': ok (1 provider, 0 targets; kubernetes dry-run')] });
  });

  test('narrowing keys are checked: providers that exist, known kinds once, namespace names', async () => {
    const { code, err } = await validate({
      kubernetes: { mode: 'dry-run' },
      discovery: { enabled: true, providers: ['githbu'], kinds: ['GitRepository', 'GitRepository'], namespaces: ['Flux_System', 'apps', 'apps'] },
    });
    expect(code).toBe(1);
    expect(err.slice(0, -1)).toEqual([
      expect.stringMatching(/^\d+:\d+ discovery\.providers\[0\]: no provider named "githbu" \(did you mean "github"\?\)$/),
      expect.stringMatching(/ discovery\.kinds\[1\]: GitRepository is listed twice$/),
      expect.stringMatching(/ discovery\.namespaces\[0\]: "Flux_System" is not a namespace name/),
      expect.stringMatching(/ discovery\.namespaces\[2\]: namespace apps is listed twice$/),
    ]);
    const kind = await validate({ kubernetes: { mode: 'dry-run' }, discovery: { enabled: true, kinds: ['HelmRepository'] } });
    expect(kind.err[0]).toMatch(/discovery\.kinds\[0\]: .*GitRepository, OCIRepository, ImageRepository or Application/);
  });

  test('at most 128 watches open at once: 32 namespaces × 4 kinds is fine, 33 is not; fewer kinds leave room for more', async () => {
    const namespaces = (count: number) => Array.from({ length: count }, (_, i) => `ns-${i}`);
    expect((await validate({ kubernetes: { mode: 'dry-run' }, discovery: { enabled: true, namespaces: namespaces(32) } })).code).toBe(0);
    const tooMany = await validate({ kubernetes: { mode: 'dry-run' }, discovery: { enabled: true, namespaces: namespaces(33) } });
    expect(tooMany.err[0]).toMatch(/discovery\.namespaces: discovery would keep 132 watches open \(clusters × kinds × namespaces\), more than 128: .*omit namespaces/);
    expect((await validate({ kubernetes: { mode: 'dry-run' }, discovery: { enabled: true, kinds: ['GitRepository'], namespaces: namespaces(100) } })).code).toBe(0);
  });
});

describe('clusters:', () => {
  test('each cluster is resolved from its own kubeconfig and context; validate lists them', async () => {
    const eu = kubeconfig('eu', 'https://eu.example.invalid:6443');
    const us = kubeconfig('us', 'https://us.example.invalid:6443');
    const { code, out } = await validate({
      clusters: [{ name: 'eu', kubeconfig: eu }, { name: 'us', kubeconfig: us, context: 'us-other' }],
      targets: [{ name: 'app', providers: ['github'], clusters: ['us'], resources: [{ kind: 'GitRepository', name: 'app', namespace: 'flux-system' }] }],
    });
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringContaining(': ok (1 provider, 1 target; 2 clusters)'),
      `cluster eu: kubeconfig: ${eu} (context eu) → https://eu.example.invalid:6443`,
      `cluster us: kubeconfig: ${us} (context us-other) → https://us.example.invalid:6443`,
    ]);
  });

  test('every rule, located: names, one way to reach each, no kubernetes.kubeconfig beside them, targets naming clusters that exist', async () => {
    const eu = kubeconfig('eu2', 'https://eu.example.invalid:6443');
    const { code, err } = await validate({
      kubernetes: { kubeconfig: eu },
      clusters: [
        { name: 'eu', kubeconfig: eu },
        { name: 'eu', kubeconfig: eu, inCluster: true },
        { name: 'lost' },
        { name: 'ctx', context: 'x', inCluster: true },
        { name: 'missing', kubeconfig: 'nowhere.yaml' },
        { name: 'badctx', kubeconfig: eu, context: 'nope' },
      ],
      targets: [{ name: 'app', providers: ['github'], clusters: ['eu', 'uss'], resources: [{ kind: 'GitRepository', name: 'app', namespace: 'flux-system' }] }],
    });
    expect(code).toBe(1);
    const problems = err.slice(0, -1).map((line) => line.replace(/^\d+:\d+ /, ''));
    expect(problems).toEqual(expect.arrayContaining([
      'kubernetes.kubeconfig: with clusters:, give each cluster its own kubeconfig; kubernetes.kubeconfig is not used',
      'clusters[1].name: cluster "eu" is defined twice',
      'clusters[1].inCluster: give either kubeconfig or inCluster: true, not both',
      'clusters[2]: kubeconfig (a file) or inCluster: true is required',
      'clusters[3].context: context selects a context of kubeconfig: give kubeconfig too',
      `clusters[4].kubeconfig: kubeconfig file ${join(dir.path, 'nowhere.yaml')} not found (clusters[4].kubeconfig)`,
      expect.stringMatching(/^clusters\[5\]\.context: context "nope" not found in kubeconfig .*eu2\.yaml; available contexts: eu2, eu2-other$/),
      'targets[0].clusters[1]: no cluster named "uss"',
    ]));
    const without = await validate({ kubernetes: { mode: 'dry-run' }, targets: [{ name: 'app', providers: ['github'], clusters: ['eu'], resources: [{ kind: 'GitRepository', name: 'app', namespace: 'flux-system' }] }] });
    expect(without.err[0]).toMatch(/targets\[0\]\.clusters\[0\]: there is no clusters: section/);
  });

  test('--dry-run makes every cluster dry-run, and placeholder secrets are then accepted', async () => {
    const eu = kubeconfig('eu3', 'https://eu.example.invalid:6443');
    const path = write({ clusters: [{ name: 'eu', kubeconfig: eu }] });
    const loaded = await loadConfigFile({ path, builtins: builtinProviders, env: { ...env, GITHUB_WEBHOOK_SECRET: 'change-me' }, dryRun: true });
    expect(loaded.clusters!.map((cluster) => [cluster.name, cluster.kube.mode])).toEqual([['eu', 'dry-run']]);
    await expect(loadConfigFile({ path, builtins: builtinProviders, env: { ...env, GITHUB_WEBHOOK_SECRET: 'change-me' } })).rejects.toThrow('holds a placeholder');
  });
});

describe('docs/discovery.md', () => {
  test('every full config it shows loads', async () => {
    const text = await Bun.file(join(import.meta.dir, '..', '..', 'docs', 'discovery.md')).text();
    const blocks = [...text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]!).filter((block) => /^providers:/m.test(block));
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const path = join(dir.path, `docs-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(path, block);
      const loaded = await loadConfigFile({ path, builtins: builtinProviders, env });
      expect(loaded.config.discovery.enabled).toBe(true);
    }
  });
});
