/**
 * deploy/ as kustomize renders it for users (`kubectl kustomize`, `kubectl apply -k`): the in-cluster install
 * (also what `kubectl kustomize deploy` gives), the sidecar overlay, the Ingress / HTTPRoute examples and the
 * ServiceMonitor, checked for what they promise: namespace-agnostic sources, Pod Security "restricted",
 * probes and scrapes on the admin port, the secret mounted where the config reads it, least privilege, only
 * /hook/ exposed, pinned images. test/deploy/dry-run-real-apiserver.test.ts sends the same renders to a real
 * API server.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { configOf, containerOf, one, podSpecOf, secretMounts, validateShipped } from '../support/deploy-objects.ts';
import { renderKustomization } from '../support/kubectl.ts';

const deploy = join(import.meta.dir, '..', '..', 'deploy');
const fromFile = (path: string): any[] => parseAllDocuments(readFileSync(join(deploy, path), 'utf8')).map((document) => document.toJS()).filter(Boolean);

let inCluster: any[] = [];
let sidecar: any[] = [];
let ha: any[] = [];
let agent: any[] = [];
beforeAll(() => {
  ha = renderKustomization(join(deploy, 'overlays', 'ha'));
  inCluster = renderKustomization(join(deploy, 'overlays', 'in-cluster'));
  sidecar = renderKustomization(join(deploy, 'overlays', 'sidecar'));
  agent = renderKustomization(join(deploy, 'overlays', 'agent'));
});

/**
 * The Pod Security Standards "restricted" profile (Kubernetes 1.25+ policy), for the fields these pods use: what
 * a namespace labelled pod-security.kubernetes.io/enforce=restricted admits. Returns the violations.
 */
function restrictedViolations(podSpec: any, containerNames?: string[]): string[] {
  const problems: string[] = [];
  const pod = podSpec.securityContext ?? {};
  for (const flag of ['hostNetwork', 'hostPID', 'hostIPC']) if (podSpec[flag]) problems.push(`pod ${flag}`);
  const allowedVolumes = ['configMap', 'secret', 'emptyDir', 'projected', 'downwardAPI', 'csi', 'persistentVolumeClaim', 'ephemeral'];
  for (const volume of podSpec.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name')!;
    if (!allowedVolumes.includes(type)) problems.push(`volume ${volume.name}: ${type}`);
  }
  const containers = [...(podSpec.initContainers ?? []), ...podSpec.containers].filter((container: any) => !containerNames || containerNames.includes(container.name));
  for (const container of containers) {
    const own = container.securityContext ?? {};
    const where = `container ${container.name}`;
    if (own.privileged) problems.push(`${where}: privileged`);
    if (own.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
    if ((own.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if ((own.runAsUser ?? pod.runAsUser) === 0) problems.push(`${where}: runAsUser 0`);
    const seccomp = (own.seccompProfile ?? pod.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${where}: seccompProfile ${seccomp ?? 'unset'}`);
    if (!(own.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities not dropped`);
    for (const added of own.capabilities?.add ?? []) if (added !== 'NET_BIND_SERVICE') problems.push(`${where}: adds ${added}`);
    for (const port of container.ports ?? []) if (port.hostPort) problems.push(`${where}: hostPort`);
  }
  return problems;
}

describe('deploy/: the sources', () => {
  test('kubectl kustomize deploy renders the in-cluster install', () => {
    expect(renderKustomization(deploy)).toEqual(inCluster);
    expect(inCluster.map((object) => object.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  });

  test('are namespace-agnostic: only overlays choose a namespace', () => {
    const files = ['base', 'rbac', 'expose', 'monitoring'].flatMap((dir) => readdirSync(join(deploy, dir)).filter((file) => file.endsWith('.yaml')).map((file) => join(dir, file)));
    expect(files.length).toBeGreaterThan(8);
    for (const file of files) for (const object of fromFile(file)) expect({ file, namespace: object.metadata?.namespace }).toEqual({ file, namespace: undefined });
  });

  test('no image is `latest` or unpinned', () => {
    const images = [...inCluster, ...sidecar].filter((object) => object.kind === 'Deployment').flatMap((deployment) => podSpecOf(deployment).containers.map((container: any) => container.image));
    expect(images.length).toBe(3);
    for (const image of images) {
      expect(image).toMatch(/^[a-z0-9.-]+(\/[a-z0-9._-]+)+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  test('the ClusterRole grants only list and patch on the reconciled kinds, create and patch on Events, on named resources', () => {
    const role = one(fromFile('rbac/clusterrole.yaml'), 'ClusterRole');
    for (const rule of role.rules) {
      const allowed = rule.apiGroups.includes('events.k8s.io') ? ['create', 'patch'] : ['list', 'patch'];
      expect(rule.verbs.filter((verb: string) => !allowed.includes(verb))).toEqual([]);
      expect([...rule.apiGroups, ...rule.resources]).not.toContain('*');
    }
  });
});

describe('deploy/rbac/flux-receivers', () => {
  test('adds exactly what fluxReceivers needs, to the in-cluster ServiceAccount: Receivers cluster-wide, Secrets in flux-system only', () => {
    const objects = renderKustomization(join(deploy, 'rbac', 'flux-receivers'));
    const grants = (rules: any[]) => rules.flatMap((rule) => rule.apiGroups.flatMap((group: string) => rule.resources.flatMap((resource: string) => rule.verbs.map((verb: string) => `${group}/${resource}:${verb}`)))).sort();
    expect(grants(one(objects, 'ClusterRole').rules)).toEqual(['notification.toolkit.fluxcd.io/receivers/status:patch', 'notification.toolkit.fluxcd.io/receivers:list', 'notification.toolkit.fluxcd.io/receivers:watch']);
    const role = one(objects, 'Role');
    expect(role.metadata.namespace).toBe('flux-system');
    expect(grants(role.rules)).toEqual(['/secrets:get']);
    const subject = [{ kind: 'ServiceAccount', name: one(inCluster, 'ServiceAccount').metadata.name, namespace: 'flux-system' }];
    expect(one(objects, 'ClusterRoleBinding').subjects).toEqual(subject);
    expect(one(objects, 'RoleBinding').subjects).toEqual(subject);
  });
});

describe('deploy/rbac/feedback', () => {
  test('adds only reads for following, to the in-cluster ServiceAccount: get, list and watch on the kinds followed', () => {
    const objects = renderKustomization(join(deploy, 'rbac', 'feedback'));
    const grants = (rules: any[]) => rules.flatMap((rule) => rule.apiGroups.flatMap((group: string) => rule.resources.flatMap((resource: string) => rule.verbs.map((verb: string) => `${group}/${resource}:${verb}`)))).sort();
    const kinds = ['argoproj.io/applications', 'helm.toolkit.fluxcd.io/helmreleases', 'kustomize.toolkit.fluxcd.io/kustomizations', 'source.toolkit.fluxcd.io/buckets', 'source.toolkit.fluxcd.io/gitrepositories', 'source.toolkit.fluxcd.io/helmrepositories', 'source.toolkit.fluxcd.io/ocirepositories'];
    expect(grants(one(objects, 'ClusterRole').rules)).toEqual(kinds.flatMap((kind) => ['get', 'list', 'watch'].map((verb) => `${kind}:${verb}`)).sort());
    expect(one(objects, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: one(inCluster, 'ServiceAccount').metadata.name, namespace: 'flux-system' }]);
  });
});

describe('deploy/overlays/in-cluster', () => {
  test('everything namespaced lands in flux-system, and the binding names that ServiceAccount', () => {
    for (const object of inCluster.filter((candidate) => !['ClusterRole', 'ClusterRoleBinding'].includes(candidate.kind))) expect(object.metadata.namespace).toBe('flux-system');
    const account = one(inCluster, 'ServiceAccount');
    expect(one(inCluster, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name, namespace: 'flux-system' }]);
    expect(podSpecOf(one(inCluster, 'Deployment')).serviceAccountName).toBe(account.metadata.name);
  });

  test('the pod meets Pod Security "restricted" and its root filesystem is read-only', () => {
    const deployment = one(inCluster, 'Deployment');
    expect(restrictedViolations(podSpecOf(deployment))).toEqual([]);
    expect(podSpecOf(deployment).securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(containerOf(deployment, 'fluxgate').securityContext.readOnlyRootFilesystem).toBe(true);
    // Without the hardening the check does fail.
    const loose = structuredClone(podSpecOf(deployment));
    delete loose.securityContext.seccompProfile;
    delete loose.containers[0].securityContext.seccompProfile;
    loose.containers[0].securityContext.allowPrivilegeEscalation = true;
    expect(restrictedViolations(loose)).toEqual(['container fluxgate: allowPrivilegeEscalation is not false', 'container fluxgate: seccompProfile unset']);
  });

  test('probes on the admin port, which the config listens on; webhooks on http; resource requests set', () => {
    const deployment = one(inCluster, 'Deployment');
    const container = containerOf(deployment, 'fluxgate');
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9292 }, { name: 'admin', containerPort: 9293 }]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toBeDefined();
    const { config } = configOf(inCluster, deployment, 'fluxgate');
    expect(config.server).toMatchObject({ address: '0.0.0.0:9292', adminAddress: '0.0.0.0:9293' });
    expect(config.kubernetes.mode).toBe('in-cluster');
  });

  test('the config reads its secrets from the mounted Secret, and validates', async () => {
    const deployment = one(inCluster, 'Deployment');
    const { config } = configOf(inCluster, deployment, 'fluxgate');
    const mounts = secretMounts(deployment, 'fluxgate');
    const files: string[] = config.providers.flatMap((provider: any) => [provider.secret, provider.signingSecret].filter(Boolean).map((secret: any) => secret.file));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(mounts.some((mount) => file.startsWith(`${mount}/`))).toBe(true);
    const result = await validateShipped(config);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('two replicas and a PodDisruptionBudget over them, so a drain never takes the last one', () => {
    const deployment = one(inCluster, 'Deployment');
    const budget = one(inCluster, 'PodDisruptionBudget');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(budget.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });
});

describe('deploy/overlays/ha', () => {
  test('three replicas in flux-system, Pod Security "restricted", the same objects as the in-cluster install', () => {
    const kinds = (objects: any[]) => objects.map((object) => object.kind).sort();
    expect(kinds(ha)).toEqual(kinds(inCluster));
    const deployment = one(ha, 'Deployment');
    expect(deployment.metadata.namespace).toBe('flux-system');
    expect(deployment.spec.replicas).toBe(3);
    expect(restrictedViolations(podSpecOf(deployment))).toEqual([]);
  });

  test('the config shares the journal on NATS (R3), reads the NATS credentials from the mounted Secret fluxgate-nats, and validates', async () => {
    const deployment = one(ha, 'Deployment');
    const { config } = configOf(ha, deployment, 'fluxgate');
    expect(config.state).toMatchObject({ store: 'nats', nats: { replicas: 3 } });
    expect(config.state.nats.servers[0]).toStartWith('nats://');
    const natsVolume = podSpecOf(deployment).volumes.find((volume: any) => volume.secret?.secretName === 'fluxgate-nats');
    const mount = containerOf(deployment, 'fluxgate').volumeMounts.find((candidate: any) => candidate.name === natsVolume.name);
    expect(config.state.nats.credentials.startsWith(`${mount.mountPath}/`)).toBe(true);
    const files: string[] = config.providers.flatMap((provider: any) => [provider.secret].filter(Boolean).map((secret: any) => secret.file));
    for (const file of files) expect(secretMounts(deployment, 'fluxgate').some((path) => file.startsWith(`${path}/`))).toBe(true);
    const result = await validateShipped(config);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('deploy/overlays/agent', () => {
  test('one replica in flux-system, Pod Security "restricted", and nothing to connect to: no Service, no Ingress, no webhook port', () => {
    expect(agent.map((object) => object.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'ServiceAccount']);
    const deployment = one(agent, 'Deployment');
    expect(deployment.metadata.namespace).toBe('flux-system');
    expect(deployment.spec.replicas).toBe(1);
    expect(restrictedViolations(podSpecOf(deployment))).toEqual([]);
    expect(containerOf(deployment, 'fluxgate').ports).toEqual([{ name: 'admin', containerPort: 9293 }]);
    const policy = one(agent, 'NetworkPolicy');
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(policy.spec.ingress).toEqual([{ ports: [{ port: 9293, protocol: 'TCP' }] }]);
  });

  test('the config connects out to the edge with the token of the mounted Secret, listens for webhooks on loopback only, and validates', async () => {
    const deployment = one(agent, 'Deployment');
    const { config } = configOf(agent, deployment, 'fluxgate');
    expect(config.providers).toBeUndefined();
    expect(config.server.address).toStartWith('127.0.0.1:');
    expect(config.upstream.url).toStartWith('https://');
    expect(secretMounts(deployment, 'fluxgate').some((path) => config.upstream.token.file.startsWith(`${path}/`))).toBe(true);
    for (const target of config.targets) expect(target.providers).toEqual([config.upstream.name]);
    const result = await validateShipped(config);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('deploy/overlays/sidecar', () => {
  test('adds fluxgate beside the workload, which keeps its own container as it was', () => {
    const deployment = one(sidecar, 'Deployment', 'my-app');
    expect(podSpecOf(deployment).containers.map((container: any) => container.name).sort()).toEqual(['fluxgate', 'proxy']);
    const original = one(fromFile('overlays/sidecar/my-app.yaml'), 'Deployment');
    expect(containerOf(deployment, 'proxy')).toEqual(containerOf(original, 'proxy'));
    expect(sidecar.filter((object) => object.kind === 'Service')).toEqual([]);
  });

  test('shares only localhost: no ports, and the config listens on 127.0.0.1', () => {
    const deployment = one(sidecar, 'Deployment', 'my-app');
    expect(containerOf(deployment, 'fluxgate').ports).toBeUndefined();
    const { config } = configOf(sidecar, deployment, 'fluxgate');
    expect(config.server.address).toStartWith('127.0.0.1:');
    expect(config.server.adminAddress).toStartWith('127.0.0.1:');
  });

  test('its secret is mounted where the config reads it, and the config validates', async () => {
    const deployment = one(sidecar, 'Deployment', 'my-app');
    const { config } = configOf(sidecar, deployment, 'fluxgate');
    const mounts = secretMounts(deployment, 'fluxgate');
    for (const provider of config.providers) expect(mounts.some((mount) => provider.secret.file.startsWith(`${mount}/`))).toBe(true);
    expect(secretMounts(deployment, 'proxy')).toEqual([]);
    const result = await validateShipped(config);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('the container meets Pod Security "restricted" whatever the pod sets, and the workload account may reconcile', () => {
    const deployment = one(sidecar, 'Deployment', 'my-app');
    const bare = { ...podSpecOf(deployment), securityContext: {} };
    expect(restrictedViolations(bare, ['fluxgate'])).toEqual([]);
    expect(restrictedViolations(podSpecOf(deployment))).toEqual([]);
    const binding = one(sidecar, 'ClusterRoleBinding');
    expect(binding.roleRef.name).toBe(one(sidecar, 'ClusterRole').metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: podSpecOf(deployment).serviceAccountName, namespace: deployment.metadata.namespace }]);
  });
});

describe('deploy/expose and deploy/monitoring', () => {
  const servicePort = (name: string | number) => one(inCluster, 'Service').spec.ports.find((port: any) => port.name === name || port.port === name);

  test('the Ingress routes only /hook/ to the webhook port', () => {
    const ingress = one(fromFile('expose/ingress.yaml'), 'Ingress');
    const paths = ingress.spec.rules.flatMap((rule: any) => rule.http.paths);
    expect(paths.map((path: any) => [path.path, path.pathType])).toEqual([['/hook/', 'Prefix']]);
    const backend = paths[0].backend.service;
    expect(backend.name).toBe(one(inCluster, 'Service').metadata.name);
    expect(servicePort(backend.port.name ?? backend.port.number).targetPort).toBe('http');
  });

  test('the HTTPRoute matches only /hook/ and sends it to the webhook port', () => {
    const route = one(fromFile('expose/httproute.yaml'), 'HTTPRoute');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec.rules.flatMap((rule: any) => rule.matches)).toEqual([{ path: { type: 'PathPrefix', value: '/hook/' } }]);
    const backends = route.spec.rules.flatMap((rule: any) => rule.backendRefs);
    expect(backends).toHaveLength(1);
    expect(backends[0].name).toBe(one(inCluster, 'Service').metadata.name);
    expect(servicePort(backends[0].port).targetPort).toBe('http');
  });

  test('the ServiceMonitor scrapes /metrics on the admin port of the fluxgate Service', () => {
    const monitor = one(fromFile('monitoring/servicemonitor.yaml'), 'ServiceMonitor');
    const service = one(inCluster, 'Service');
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics' })]);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(servicePort('admin').targetPort).toBe('admin');
    expect(containerOf(one(inCluster, 'Deployment'), 'fluxgate').ports).toContainEqual({ name: 'admin', containerPort: 9293 });
  });
});
