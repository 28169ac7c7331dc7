/**
 * Integration: `fluxgate import-receivers` against a REAL kube-apiserver prints a config that `fluxgate validate`
 * accepts and that serves the Receivers' own paths; tokens appear only as environment references, and what a
 * config cannot say as Flux does is left out with the reason.
 */
import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { runFluxgate } from '../support/cli.ts';
import { startTestGateway } from '../support/gateway.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { GIT_REPOSITORY, REQUESTED_AT, RFC3339_NANO, annotationsOf, applyAll, eventually, freshNamespace, gitRepository } from './support.ts';

let cluster: TestCluster;
let kubeconfig: string;

clusterForFile((started) => {
  cluster = started;
  kubeconfig = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'import-admin' });
});


const hashedPath = (token: string, name: string, namespace: string) => `/hook/${createHash('sha256').update(`${token}${name}${namespace}`).digest('hex')}`;
const secret = (namespace: string, name: string, token: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data: { token: Buffer.from(token).toString('base64') } });
const receiver = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'notification.toolkit.fluxcd.io/v1',
  kind: 'Receiver',
  metadata: { name, namespace },
  spec: { secretRef: { name: 'receiver-token' }, resources: [{ kind: 'GitRepository', name: 'app' }], ...spec },
});

describe('fluxgate import-receivers', () => {
  test('prints a config that validates and serves the same paths, with tokens as env references only', async () => {
    const ns = await freshNamespace(cluster, 'import');
    const token = '7d41e9c2b80a5f36';
    await applyAll(cluster, [
      secret(ns, 'receiver-token', token),
      gitRepository(ns, 'app'),
      receiver(ns, 'github-receiver', { type: 'github', events: ['PUSH', 'ping'] }),
      receiver(ns, 'registry', { type: 'quay' }),
      receiver(ns, 'filtered', { type: 'github', resourceFilter: "res.metadata.name == 'app'" }),
      receiver(ns, 'paused', { type: 'github', suspend: true }),
      receiver(ns, 'orphan', { type: 'github', secretRef: { name: 'missing' } }),
    ]);

    const imported = await runFluxgate(['import-receivers', '--kubeconfig', kubeconfig, '--namespace', ns]);
    expect({ code: imported.code, stderr: imported.stderr }).toMatchObject({ code: 0 });
    expect(imported.stdout).not.toContain(token);
    const variable = `FLUX_RECEIVER_${ns.toUpperCase().replace(/-/g, '_')}_GITHUB_RECEIVER_TOKEN`;
    const config = parseYaml(imported.stdout);
    expect(config.providers).toEqual([
      { name: `${ns}-github-receiver`, type: 'github', secret: { env: variable }, events: ['push', 'ping'], path: hashedPath(token, 'github-receiver', ns) },
      { name: `${ns}-registry`, type: 'quay', allowUnsigned: true, path: hashedPath(token, 'registry', ns) },
    ]);
    expect(config.targets[0]).toEqual({ name: `${ns}-github-receiver`, providers: [`${ns}-github-receiver`], resources: [{ kind: 'GitRepository', apiVersion: GIT_REPOSITORY.apiVersion, namespace: ns, name: 'app' }] });
    expect(imported.stdout).toContain(`#   export ${variable}="$(kubectl -n ${ns} get secret receiver-token -o jsonpath='{.data.token}' | base64 -d)"`);
    for (const [name, reason] of [['filtered', 'cannot filter with CEL'], ['paused', 'suspended'], ['orphan', `Secret ${ns}/missing not found`]]) {
      expect(imported.stderr).toContain(`Receiver ${ns}/${name} is left out`);
      expect(imported.stderr).toContain(reason!);
    }

    const dir = tempDir();
    try {
      const file = join(dir.path, 'fluxgate.yaml');
      writeFileSync(file, imported.stdout);
      expect(await runFluxgate(['validate', file], { [variable]: token, HOME: dir.path, KUBECONFIG: '' })).toMatchObject({ code: 0 });
      expect((await runFluxgate(['validate', file], { HOME: dir.path, KUBECONFIG: '' })).code).toBe(1); // the variable is needed

      // Served from the file, the Receiver's own URL still works.
      const gateway = await startTestGateway({ config: toYaml({ ...config, kubernetes: { mode: 'kubeconfig', kubeconfig }, server: { address: '127.0.0.1:0' } }), env: { [variable]: token } });
      try {
        const answer = await post(`${gateway.url}${hashedPath(token, 'github-receiver', ns)}`, githubWebhook(token));
        expect(answer.status).toBe(202);
        expect(await eventually('requestedAt', async () => (await annotationsOf(cluster, GIT_REPOSITORY, ns, 'app'))[REQUESTED_AT])).toMatch(RFC3339_NANO);
      } finally {
        await gateway.stop();
      }
    } finally {
      dir.remove();
    }
  }, 60_000);

  test('without a cluster it says so and exits 1', async () => {
    const dir = tempDir();
    try {
      const result = await runFluxgate(['import-receivers'], { HOME: dir.path, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' });
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toContain('no cluster configured');
    } finally {
      dir.remove();
    }
  }, 30_000);
});
