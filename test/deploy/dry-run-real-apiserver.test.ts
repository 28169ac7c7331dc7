/**
 * deploy/ against a real kube-apiserver: each render (`kubectl kustomize`) and each example file goes through
 * `kubectl apply --dry-run=server`, so the API server itself validates and admits every object (schemas,
 * defaulting, RBAC objects, the CRD-backed HTTPRoute and ServiceMonitor) without creating anything.
 *
 * The test server is v1.20 (test/support/kube-apiserver), driven by kubectl v1.20.2 (prepare-kubectl.sh):
 * - policy/v1 PodDisruptionBudget is served from 1.21 on: where the server lacks it, the same object is sent as
 *   policy/v1beta1 (the fields used, maxUnavailable and selector, are the same in both);
 * - the Gateway API and Prometheus Operator CRDs are not installed: ./crds holds open-schema stand-ins, so those
 *   two objects are checked for their group, version, kind and scope only;
 * - the installs with Flux (deploy/flux/) and Argo CD (deploy/argocd/) go to the CRDs those projects publish
 *   (./crds/published, in place of the suite's stand-ins on this API server), so their fields are checked too; what
 *   kustomize-controller and Argo CD render from this repository (test/support/gitops-render.ts) is sent as well.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { renderAsArgo, renderAsFlux } from '../support/gitops-render.ts';
import { dryRunKubectl, renderKustomizationText, runKubectl } from '../support/kubectl.ts';
import { startTestCluster, type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { tempDir } from '../support/temp-dir.ts';

const deploy = join(import.meta.dir, '..', '..', 'deploy');
const CRDS = join(import.meta.dir, 'crds');
const PUBLISHED_CRDS = join(CRDS, 'published');
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
  for (const name of ['flux-system', 'my-app', 'argocd']) await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
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
  // An external cluster keeps the CRDs it has (real ones, or the suite's stand-ins); this file's own API server gets
  // the published ones.
  if (!cluster.external) await installPublishedCrds();
}, 15 * 60_000);

/** The OpenAPI definition the API server publishes for `group`'s `kind`, once it has the CRD's schema. */
async function publishedSchema(group: string, kind: string): Promise<any> {
  const document = (await cluster.request('GET', '/openapi/v2')).body;
  const suffix = `.${kind}`;
  const [, definition] = Object.entries<any>(document?.definitions ?? {}).find(([name, candidate]) => name.endsWith(suffix) && candidate['x-kubernetes-group-version-kind']?.some((gvk: any) => gvk.group === group && gvk.kind === kind)) ?? [];
  return definition?.properties?.spec?.properties ? definition : undefined;
}

/** Replaces the stand-in CRDs with the published ones and waits until kubectl can validate against them. */
async function installPublishedCrds(): Promise<void> {
  for (const file of readdirSync(PUBLISHED_CRDS).filter((name) => name.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(PUBLISHED_CRDS, file), 'utf8'));
    await cluster.apply(crd);
    const deadline = Date.now() + 60_000;
    while (!(await publishedSchema(crd.spec.group, crd.spec.names.kind))) {
      if (Date.now() > deadline) throw new Error(`the OpenAPI schema of ${crd.metadata.name} was not published in time`);
      await Bun.sleep(200);
    }
  }
}

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

  test('the install with Flux (deploy/flux) and its SOPS variant, with the encrypted Secret\'s directory, are admitted whole', () => {
    for (const dir of ['flux', 'flux/sops', 'flux/sops/secret']) {
      const rendered = renderKustomizationText(join(deploy, dir));
      const result = dryRun(dir.replaceAll('/', '-'), rendered);
      expect({ dir, stderr: result.stderr, code: result.code }).toEqual({ dir, stderr: '', code: 0 });
      expect(result.applied).toHaveLength(count(rendered));
    }
  });

  test('what kustomize-controller renders from deploy/flux (the in-cluster overlay with its image and config) is admitted whole', () => {
    const kustomization = parseAllDocuments(renderKustomizationText(join(deploy, 'flux'))).map((document) => document.toJS()).find((object) => object?.kind === 'Kustomization');
    const rendered = renderAsFlux(kustomization);
    const result = dryRun('flux-rendered', rendered);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.applied).toHaveLength(count(rendered));
    expect(result.applied).toContain('deployment.apps/fluxgate created (server dry run)');
  });

  test('the install with Argo CD (deploy/argocd) is admitted, and what Argo CD renders from each of its sources too', () => {
    const rendered = renderKustomizationText(join(deploy, 'argocd'));
    const result = dryRun('argocd', rendered);
    expect({ stderr: result.stderr, code: result.code }).toEqual({ stderr: '', code: 0 });
    expect(result.applied).toEqual(['application.argoproj.io/fluxgate created (server dry run)']);
    const application = parse(rendered);
    application.spec.sources.forEach((source: any, index: number) => {
      const objects = renderAsArgo(source);
      const sourceResult = dryRun(`argocd-source-${index}`, objects, application.spec.destination.namespace);
      expect({ index, stderr: sourceResult.stderr, code: sourceResult.code }).toEqual({ index, stderr: '', code: 0 });
      expect(sourceResult.applied).toHaveLength(count(objects));
    });
  });

  test.skipIf(process.env.KUBECONFIG_FOR_TESTS !== undefined)('the published CRDs check fields: an unknown source kind, a misspelt Application field are refused', () => {
    const flux = renderKustomizationText(join(deploy, 'flux'));
    const badKind = flux.replace('kind: GitRepository\n    name: fluxgate', 'kind: GitRepo\n    name: fluxgate');
    expect(badKind).not.toBe(flux);
    const refusedKind = dryRun('flux-bad-kind', badKind);
    expect(refusedKind.code).not.toBe(0);
    expect(refusedKind.stderr).toContain('sourceRef.kind');
    const argocd = renderKustomizationText(join(deploy, 'argocd'));
    const misspelt = argocd.replace('targetRevision:', 'targetRevison:');
    expect(misspelt).not.toBe(argocd);
    const refusedField = dryRun('argocd-misspelt', misspelt);
    expect(refusedField.code).not.toBe(0);
    expect(refusedField.stderr).toContain('targetRevison');
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
