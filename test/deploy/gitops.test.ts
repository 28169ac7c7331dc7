/**
 * The installs with Flux (deploy/flux/) and Argo CD (deploy/argocd/), as each tool renders them: the objects a user
 * commits, and what kustomize-controller and Argo CD's repo-server then render from this repository's
 * deploy/overlays/in-cluster with the image and config they carry (test/support/gitops-render.ts). Checked for what
 * the install promises: the release this checkout is, the namespace, the user's image and config (valid, its secrets
 * where the Secret is mounted), SOPS decryption before the pods need the Secret, and for Argo CD RBAC in the argocd
 * namespace only. test/deploy/dry-run-real-apiserver.test.ts sends the same objects to a real API server.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import packageJson from '../../package.json' with { type: 'json' };
import { pinnedVersionFiles } from '../../scripts/release/pins.ts';
import { configOf, one, secretMounts, validateShipped } from '../support/deploy-objects.ts';
import { renderAsArgo, renderAsFlux } from '../support/gitops-render.ts';
import { renderKustomization } from '../support/kubectl.ts';

const root = join(import.meta.dir, '..', '..');
const deploy = join(root, 'deploy');
const objectsOf = (yamlText: string): any[] => parseAllDocuments(yamlText).map((document) => document.toJS()).filter(Boolean);

let flux: any[] = [];
let fluxSops: any[] = [];
let sopsSecret: any[] = [];
let argocd: any[] = [];
let baseInstall: any[] = [];
beforeAll(() => {
  flux = renderKustomization(join(deploy, 'flux'));
  fluxSops = renderKustomization(join(deploy, 'flux', 'sops'));
  sopsSecret = renderKustomization(join(deploy, 'flux', 'sops', 'secret'));
  argocd = renderKustomization(join(deploy, 'argocd'));
  baseInstall = renderKustomization(join(deploy, 'overlays', 'in-cluster'));
});

/** The files the config reads its secrets from. */
const secretFiles = (config: any): string[] => config.providers.flatMap((provider: any) => [provider.secret, provider.signingSecret].filter(Boolean).map((secret: any) => secret.file));

/** The config of the rendered install, checked to read its secrets from the mounted Secret and to validate. */
async function checkConfig(objects: any[]): Promise<any> {
  const deployment = one(objects, 'Deployment', 'fluxgate');
  const { config } = configOf(objects, deployment, 'fluxgate');
  const mounts = secretMounts(deployment, 'fluxgate');
  expect(secretFiles(config).length).toBeGreaterThan(0);
  for (const file of secretFiles(config)) expect(mounts.some((mount) => file.startsWith(`${mount}/`))).toBe(true);
  const result = await validateShipped(config);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return config;
}

test('every release pin in deploy/ names the version of this checkout', () => {
  const pins = pinnedVersionFiles(root);
  expect(pins.map(({ file }) => file)).toEqual(expect.arrayContaining(['deploy/flux/install/gitrepository.yaml', 'deploy/flux/install/fluxgate.yaml', 'deploy/argocd/application.yaml', 'deploy/overlays/in-cluster/kustomization.yaml']));
  for (const pin of pins) expect(pin).toEqual({ file: pin.file, version: packageJson.version });
});

describe('deploy/flux: the objects committed to the fleet repository', () => {
  test('a GitRepository of fluxgate at the release tag, fetching only deploy/, and a Kustomization of deploy/overlays/in-cluster from it', () => {
    expect(flux.map((object) => `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`).sort()).toEqual(['GitRepository flux-system/fluxgate', 'Kustomization flux-system/fluxgate']);
    const source = one(flux, 'GitRepository');
    expect(source.apiVersion).toBe('source.toolkit.fluxcd.io/v1');
    expect(source.spec.ref).toEqual({ tag: `v${packageJson.version}` });
    expect(source.spec.ignore.trim().split('\n')).toEqual(['/*', '!/deploy/']);
    const kustomization = one(flux, 'Kustomization');
    expect(kustomization.apiVersion).toBe('kustomize.toolkit.fluxcd.io/v1');
    expect(kustomization.spec).toMatchObject({ sourceRef: { kind: 'GitRepository', name: 'fluxgate' }, path: './deploy/overlays/in-cluster', prune: true, wait: true });
    expect(existsSync(join(root, kustomization.spec.path, 'kustomization.yaml'))).toBe(true);
  });

  test('with SOPS: a Kustomization decrypting the Secret with the age key, which fluxgate waits for; the Secret is fluxgate-webhooks in flux-system', () => {
    const webhooks = one(fluxSops, 'Kustomization', 'fluxgate-webhooks');
    expect(webhooks.spec).toMatchObject({ decryption: { provider: 'sops', secretRef: { name: 'sops-age' } }, sourceRef: { kind: 'GitRepository', name: 'flux-system' }, path: './clusters/my-cluster/fluxgate/sops/secret' });
    const fluxgate = one(fluxSops, 'Kustomization', 'fluxgate');
    expect(fluxgate.spec.dependsOn).toEqual([{ name: 'fluxgate-webhooks' }]);
    expect({ ...fluxgate.spec, dependsOn: undefined }).toEqual({ ...one(flux, 'Kustomization', 'fluxgate').spec, dependsOn: undefined });
    expect(one(fluxSops, 'GitRepository')).toEqual(one(flux, 'GitRepository'));
    const secret = one(sopsSecret, 'Secret');
    expect(secret.metadata).toMatchObject({ name: 'fluxgate-webhooks', namespace: 'flux-system' });
    // The Secret holds a file for each one the config reads, where the pods mount it.
    const config = parse(one(flux, 'Kustomization').spec.patches[0].patch).data['fluxgate.yaml'];
    expect(secretFiles(parse(config)).map((file) => file.replace('/etc/fluxgate/secrets/', ''))).toEqual(Object.keys(secret.stringData));
  });
});

describe('deploy/flux: what kustomize-controller renders from it', () => {
  let rendered: any[] = [];
  beforeAll(() => {
    rendered = objectsOf(renderAsFlux(one(flux, 'Kustomization')));
  });

  test('the in-cluster install, in flux-system, with the Kustomization\'s image', () => {
    expect(rendered.map((object) => object.kind).sort()).toEqual(baseInstall.map((object) => object.kind).sort());
    for (const object of rendered) if (!object.kind.startsWith('Cluster')) expect(object.metadata.namespace).toBe('flux-system');
    const image = one(flux, 'Kustomization').spec.images[0];
    expect(one(rendered, 'Deployment').spec.template.spec.containers.map((container: any) => container.image)).toEqual([`${image.newName}:${image.newTag}`]);
  });

  test('with the config of its patch, under a name of its own (a change rolls the pods), reading its secret from the mount, valid', async () => {
    const config = await checkConfig(rendered);
    expect(config).toEqual(parse(parse(one(flux, 'Kustomization').spec.patches[0].patch).data['fluxgate.yaml']));
    expect(one(rendered, 'ConfigMap').metadata.name).not.toBe(one(baseInstall, 'ConfigMap').metadata.name);
  });
});

describe('deploy/argocd', () => {
  let application: any;
  let install: any[] = [];
  let rbac: any[] = [];
  beforeAll(() => {
    application = one(argocd, 'Application');
    install = objectsOf(renderAsArgo(application.spec.sources[0]));
    rbac = objectsOf(renderAsArgo(application.spec.sources[1]));
  });

  test('one Application in argocd: the in-cluster overlay and the argocd RBAC from fluxgate\'s repository at the release tag', () => {
    expect(argocd).toHaveLength(1);
    expect(application.metadata).toEqual({ name: 'fluxgate', namespace: 'argocd' });
    expect(application.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'argocd' });
    expect(application.spec.sources.map((source: any) => [source.targetRevision, source.path])).toEqual([
      [`v${packageJson.version}`, 'deploy/overlays/in-cluster'],
      [`v${packageJson.version}`, 'deploy/argocd/rbac'],
    ]);
    for (const source of application.spec.sources) expect(existsSync(join(root, source.path, 'kustomization.yaml'))).toBe(true);
  });

  test('Argo CD renders only namespaced objects, all in argocd: no ClusterRole, no ClusterRoleBinding', () => {
    expect(install.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    expect(rbac.map((object) => object.kind).sort()).toEqual(['Role', 'RoleBinding']);
    for (const object of [...install, ...rbac]) expect(`${object.kind} ${object.metadata.namespace}`).toBe(`${object.kind} argocd`);
    expect(one(install, 'Deployment').spec.template.spec.containers[0].image).toBe(`ghcr.io/your-org/fluxgate:${packageJson.version}`);
  });

  test('the Role allows list, watch and patch on Applications and writing Events, to fluxgate\'s ServiceAccount', () => {
    expect(one(rbac, 'Role').rules).toEqual([
      { apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['list', 'watch', 'patch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    const binding = one(rbac, 'RoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'fluxgate' });
    const serviceAccount = one(install, 'ServiceAccount');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: 'argocd' }]);
    expect(one(install, 'Deployment').spec.template.spec.serviceAccountName).toBe(serviceAccount.metadata.name);
  });

  test('the config discovers the Applications of argocd (what the Role allows), reads its secret from the mount, and validates', async () => {
    const config = await checkConfig(install);
    expect(config.discovery).toEqual({ enabled: true, kinds: ['Application'], namespaces: ['argocd'] });
    expect(config.targets).toBeUndefined();
  });
});
