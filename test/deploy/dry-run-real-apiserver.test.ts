/**
 * deploy/ against a real kube-apiserver: each render (`kubectl kustomize`) and each example file goes through
 * `kubectl apply --dry-run=server`, so the API server itself validates and admits every object (schemas,
 * defaulting, RBAC objects, the CRD-backed HTTPRoute and ServiceMonitor) without creating anything.
 *
 * The test server is v1.20 (test/support/kube-apiserver), driven by kubectl v1.20.2 (prepare-kubectl.sh):
 * - policy/v1 PodDisruptionBudget is served from 1.21 on: where the server lacks it, the same object is sent as
 *   policy/v1beta1 (the fields used, maxUnavailable and selector, are the same in both);
 * - the Gateway API and Prometheus Operator CRDs are not installed: ./crds holds open-schema stand-ins, so those
 *   two objects are checked for their group, version, kind and scope only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { dryRunKubectl, renderKustomizationText, runKubectl } from '../support/kubectl.ts';
import { startTestCluster, type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { tempDir } from '../support/temp-dir.ts';

const deploy = join(import.meta.dir, '..', '..', 'deploy');
const CRDS = join(import.meta.dir, 'crds');
let cluster: TestCluster;
let kubectl = '';
let servesPolicyV1 = false;
const scratch = tempDir('fluxgate-dry-run-');

async function served(group: string, version: string, plural: string): Promise<boolean> {
  const res = await cluster.request('GET', `/apis/${group}/${version}`);
  return res.status === 200 && (res.body.resources ?? []).some((resource: any) => resource.name === plural);
}

beforeAll(async () => {
  kubectl = dryRunKubectl();
  cluster = await startTestCluster();
  for (const name of ['flux-system', 'my-app']) await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  for (const file of readdirSync(CRDS).filter((name) => name.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(CRDS, file), 'utf8'));
    const existing = await cluster.get('apiextensions.k8s.io/v1', 'customresourcedefinitions', '', crd.metadata.name);
    if (!existing) await cluster.apply(crd);
    const deadline = Date.now() + 30_000;
    while (!(await served(crd.spec.group, crd.spec.versions[0].name, crd.spec.names.plural))) {
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not served in time`);
      await Bun.sleep(100);
    }
  }
  servesPolicyV1 = await served('policy', 'v1', 'poddisruptionbudgets');
}, 15 * 60_000);

afterAll(async () => {
  await cluster?.stop();
  scratch.remove();
}, 60_000);

/** What this API server can take: policy/v1 PodDisruptionBudgets become v1beta1 where v1 is not served. */
function forThisServer(yamlText: string): string {
  if (servesPolicyV1) return yamlText;
  return parseAllDocuments(yamlText)
    .map((document) => document.toJS())
    .filter(Boolean)
    .map((object) => stringify(object.kind === 'PodDisruptionBudget' && object.apiVersion === 'policy/v1' ? { ...object, apiVersion: 'policy/v1beta1' } : object))
    .join('---\n');
}

/** `kubectl apply --dry-run=server -f FILE [-n NS]`; returns kubectl's result and the objects it reports. */
function dryRun(name: string, yamlText: string, namespace?: string) {
  const path = join(scratch.path, `${name}.yaml`);
  writeFileSync(path, forThisServer(yamlText));
  const run = runKubectl(kubectl, ['--kubeconfig', cluster.kubeconfigPath, 'apply', '--dry-run=server', '-f', path, ...(namespace ? ['-n', namespace] : [])]);
  const applied = run.stdout.split('\n').filter((line) => line.endsWith('(server dry run)'));
  return { ...run, applied };
}

const count = (yamlText: string) => parseAllDocuments(yamlText).filter((document) => document.toJS()).length;

describe('kubectl apply --dry-run=server', () => {
  test('kubectl is the v1.20 client, matching the test API server', () => {
    expect(runKubectl(kubectl, ['version', '--client', '--short']).stdout).toContain('v1.20.');
  });

  test('the in-cluster install (kubectl kustomize deploy) is admitted whole', () => {
    const rendered = renderKustomizationText(deploy);
    const result = dryRun('in-cluster', rendered);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.applied).toHaveLength(count(rendered));
    expect(result.applied).toContain('deployment.apps/fluxgate created (server dry run)');
    expect(result.applied).toContain('poddisruptionbudget.policy/fluxgate created (server dry run)');
  });

  test('the sidecar overlay is admitted whole', () => {
    const rendered = renderKustomizationText(join(deploy, 'overlays', 'sidecar'));
    const result = dryRun('sidecar', rendered);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.applied).toHaveLength(count(rendered));
    expect(result.applied).toContain('deployment.apps/my-app created (server dry run)');
  });

  test('the ha overlay (three replicas on NATS) is admitted whole', () => {
    const rendered = renderKustomizationText(join(deploy, 'overlays', 'ha'));
    const result = dryRun('ha', rendered);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.applied).toHaveLength(count(rendered));
    expect(result.applied).toContain('deployment.apps/fluxgate created (server dry run)');
  });

  test('the agent overlay (a relay agent: no Service, a NetworkPolicy) is admitted whole', () => {
    const rendered = renderKustomizationText(join(deploy, 'overlays', 'agent'));
    const result = dryRun('agent', rendered);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.applied).toHaveLength(count(rendered));
    expect(result.applied).toContain('networkpolicy.networking.k8s.io/fluxgate created (server dry run)');
  });

  test('the Ingress, HTTPRoute and ServiceMonitor examples are admitted in the namespace they are applied to', () => {
    for (const file of ['expose/ingress.yaml', 'expose/httproute.yaml', 'monitoring/servicemonitor.yaml']) {
      const text = readFileSync(join(deploy, file), 'utf8');
      const result = dryRun(file.replace('/', '-'), text, 'flux-system');
      expect({ file, stderr: result.stderr, code: result.code }).toEqual({ file, stderr: '', code: 0 });
      expect(result.applied).toHaveLength(1);
    }
  });

  test('the dry run does check: a pod with an unknown seccomp profile type is refused', () => {
    const rendered = renderKustomizationText(deploy);
    const broken = rendered.replace('type: RuntimeDefault', 'type: Everything');
    expect(broken).not.toBe(rendered);
    const result = dryRun('broken', broken);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('seccompProfile');
  });
});
