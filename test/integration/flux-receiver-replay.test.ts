/**
 * notification-controller's own receiver handler tests (v1.9.3, `internal/server/receiver_handler_test.go`,
 * `Test_handlePayload`), replayed against fluxgate's Receiver mode on a real API server: each case's Receiver,
 * Secret and resources applied, its request (the same body bytes, headers and HMAC) sent to the Receiver's hashed
 * path, then the objects carrying `reconcile.fluxcd.io/requestedAt` read back. By default (Flux's reading) every
 * case acts or refuses as Flux does and annotates the same objects; with `fluxgate.io/strict: "true"` the
 * readings fluxgate's own providers keep stricter come back.
 *
 * What a Receiver object cannot say is adapted, each case saying how: Flux's CRD requires `spec.resources`, so a
 * case without any gets one (`dummy-resource`), annotated exactly when Flux answers 200; a Ready condition Flux's
 * test writes by hand is left to the controller; a resource Flux's test puts in another namespace is in the
 * case's own (the filter leaves it out either way). Not replayed: the three gcr cases (Flux's test replaces
 * Google's token check with one that takes any bearer token; fluxgate checks a real Google ID token).
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { createHash, createHmac } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { clusterForFile } from '../support/cluster-for-file.ts';
import type { TestCluster } from '../support/kube-apiserver/cluster.ts';
import type { TestGateway } from '../support/gateway.ts';
import { startTestGateway } from '../support/gateway.ts';
import { deliveries } from './discovery-support.ts';
import { REQUESTED_AT, applyAll, eventually, freshNamespace } from './support.ts';

const RECEIVERS = { apiVersion: 'notification.toolkit.fluxcd.io/v1', plural: 'receivers' } as const;
const TOKEN = 'token';

interface Case {
  name: string;
  /** The Receiver's spec as the Flux test writes it (secretRef `token` unless the case says otherwise). */
  spec: Record<string, unknown>;
  /** The Secret `token` with `token: token` (false: the case has none). */
  secret?: boolean;
  /** Receivers the case annotates (Flux's test uses Receivers as resources), by name with their labels. */
  resources?: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
  headers?: Record<string, string>;
  /** The body the Flux test marshals (`null` when it sets none). */
  payload?: unknown;
  /** The HMAC Flux's test computes over the body with the token. */
  hmac?: { algorithm: 'sha256' | 'sha1'; prefix: string; header: string };
  /** Flux's expected answer and the objects it annotates. */
  flux: { status: number; annotated: string[] };
  /** Where fluxgate's status differs as documented (it answers before patching): the status it gives. */
  fluxgateStatus?: number;
  /** The cases where strict reading differs from Flux's: the status it gives instead (nothing annotated). */
  strictStatus?: number;
  /** No Receiver at all: the request goes to a path none has. */
  noReceiver?: true;
  /** notification-controller's --no-cross-namespace-refs (fluxReceivers.crossNamespaceRefs: false). */
  noCrossNamespaceRefs?: true;
}

const ref = (name: string) => ({ apiVersion: RECEIVERS.apiVersion, kind: 'Receiver', name });
/** Flux's CRD requires resources: a case without any gets this one, annotated exactly when Flux acts. */
const DUMMY = { resources: [ref('dummy-resource')] };
const dummies = [{ name: 'dummy-resource' }];
const CDEVENT = {
  context: { gitRepository: 'adamkenihan/notification-controller', gitRevision: '5555', version: '0.3.0', id: '5555', source: 'github', timestamp: '2023-12-07T14:51:29.908479495Z', type: 'dev.cdevents.change.merged.0.2.0' },
  subject: { type: 'change', id: '5555' },
};
/** Flux's largePayload: uuid keys until the object is past its 3 MiB request limit. */
function largePayload(): Record<string, string> {
  const payload: Record<string, string> = {};
  for (let size = 0; size <= 3 * 1024 * 1024; size += 36) payload[crypto.randomUUID()] = 'something';
  return payload;
}
const GCR_TAG = { action: 'INSERT', digest: 'us-east1-docker.pkg.dev/my-project/my-repo/hello-world@sha256:6ec128e26cd5...', tag: 'us-east1-docker.pkg.dev/my-project/my-repo/hello-world:1.1' };
const SHA256 = (header: string) => ({ algorithm: 'sha256' as const, prefix: 'sha256=', header });

const cases: Case[] = [
  { name: 'Generic receiver', spec: { type: 'generic', ...DUMMY }, resources: dummies, flux: { status: 200, annotated: ['dummy-resource'] } },
  // No spec.events: Flux acts on every event, even none; strict reading acts on the type's defaults only.
  { name: 'gitlab receiver', spec: { type: 'gitlab', ...DUMMY }, resources: dummies, headers: { 'X-Gitlab-Token': TOKEN }, flux: { status: 200, annotated: ['dummy-resource'] }, strictStatus: 200 },
  // ce-type and context.type differ: Flux compares only the header with spec.events; strict reading refuses the mismatch.
  { name: 'cdevents receiver', spec: { type: 'cdevents', events: ['cd.change.merged.v1'], ...DUMMY }, resources: dummies, headers: { 'Ce-Type': 'cd.change.merged.v1' }, payload: CDEVENT, flux: { status: 200, annotated: ['dummy-resource'] }, strictStatus: 400 },
  { name: 'cdevents receiver wrong event type', spec: { type: 'cdevents', events: ['cd.environment.modified.v1'], ...DUMMY }, resources: dummies, headers: { 'Ce-Type': 'cd.change.merged.v1' }, payload: CDEVENT, flux: { status: 400, annotated: [] }, fluxgateStatus: 200 },
  { name: 'cdevents receiver no event type specified', spec: { type: 'cdevents', ...DUMMY }, resources: dummies, headers: { 'Ce-Type': 'cd.change.merged.v1' }, payload: CDEVENT, flux: { status: 200, annotated: ['dummy-resource'] }, strictStatus: 200 },
  // No X-GitHub-Event and a body without a repository: Flux acts on it; strict reading does not.
  { name: 'github receiver', spec: { type: 'github', ...DUMMY }, resources: dummies, hmac: SHA256('X-Hub-Signature-256'), headers: { 'Content-Type': 'application/json' }, payload: { action: 'push' }, flux: { status: 200, annotated: ['dummy-resource'] }, strictStatus: 200 },
  { name: 'generic hmac receiver', spec: { type: 'generic-hmac', ...DUMMY }, resources: dummies, hmac: SHA256('X-Signature'), headers: { 'Content-Type': 'application/json' }, flux: { status: 200, annotated: ['dummy-resource'] } },
  // X-Hub-Signature-256: Flux's check reads it; strict reading takes Bitbucket's X-Hub-Signature only.
  { name: 'bitbucket receiver', spec: { type: 'bitbucket', events: ['push'], ...DUMMY }, resources: dummies, hmac: SHA256('X-Hub-Signature-256'), headers: { 'Content-Type': 'application/json', 'X-Event-Key': 'push' }, flux: { status: 200, annotated: ['dummy-resource'] }, strictStatus: 401 },
  { name: 'quay receiver', spec: { type: 'quay', ...DUMMY }, resources: dummies, payload: { docker_url: 'docker.io', updated_tags: ['v0.0.1'] }, flux: { status: 200, annotated: ['dummy-resource'] } },
  // No JSON body: Flux checks only Authorization; strict reading refuses a Harbor delivery it cannot read.
  { name: 'harbor receiver', spec: { type: 'harbor', ...DUMMY }, resources: dummies, headers: { Authorization: TOKEN }, flux: { status: 200, annotated: ['dummy-resource'] }, strictStatus: 400 },
  { name: 'no receiver configured', spec: {}, noReceiver: true, flux: { status: 404, annotated: [] } },
  { name: 'missing secret', spec: { type: 'generic', secretRef: { name: 'non-existing' }, ...DUMMY }, resources: dummies, flux: { status: 400, annotated: [] }, fluxgateStatus: 404 },
  { name: 'not ready receiver is ignored', spec: {}, secret: true, flux: { status: 503, annotated: [] }, fluxgateStatus: 404 },
  { name: 'suspended receiver ignored', spec: { type: 'generic', suspend: true, ...DUMMY }, resources: dummies, flux: { status: 503, annotated: [] } },
  { name: 'missing apiVersion in resource', spec: { type: 'generic', resources: [{ kind: 'Receiver', name: '*', matchLabels: { label: 'match' } }] }, flux: { status: 500, annotated: [] }, fluxgateStatus: 404 },
  { name: 'resource by name not found', spec: { type: 'generic', resources: [ref('does-not-exists')] }, flux: { status: 500, annotated: [] }, fluxgateStatus: 202 },
  {
    name: 'annotating resources by label match',
    spec: { type: 'generic', resources: [{ ...ref('*'), matchLabels: { label: 'match' } }] },
    resources: [{ name: 'dummy-resource-2', labels: { label: 'does-not-match' } }, { name: 'dummy-resource', labels: { label: 'match' } }],
    flux: { status: 200, annotated: ['dummy-resource'] },
  },
  { name: 'annotating resource by name', spec: { type: 'generic', resources: [ref('dummy-resource')] }, resources: [{ name: 'dummy-resource-2' }, { name: 'dummy-resource' }], flux: { status: 200, annotated: ['dummy-resource'] } },
  { name: 'cannot annotate all resources if name is * and no labels were set', spec: { type: 'generic', resources: [ref('*')] }, flux: { status: 500, annotated: [] }, fluxgateStatus: 404 },
  {
    name: 'no cross-namespace refs',
    spec: { type: 'generic', resources: [{ ...ref('some-resource'), namespace: 'another-namespace' }] },
    noCrossNamespaceRefs: true,
    flux: { status: 500, annotated: [] },
    fluxgateStatus: 404,
  },
  { name: 'large payload', spec: { type: 'generic', resources: [ref('some-resource')] }, payload: largePayload(), flux: { status: 413, annotated: [] } },
  {
    name: 'resource matchLabels is ignored if name is not *',
    spec: { type: 'generic', resources: [{ ...ref('dummy-resource'), matchLabels: { label: 'match' } }] },
    resources: [{ name: 'dummy-resource-2', labels: { label: 'match' } }, { name: 'dummy-resource' }],
    flux: { status: 200, annotated: ['dummy-resource'] },
  },
  // resourceFilter (CEL over `res` and the body as `req`).
  {
    name: 'resources filtered with CEL expressions',
    spec: { type: 'generic', resources: [{ ...ref('*'), matchLabels: { label: 'production' } }], resourceFilter: `has(res.metadata.annotations) && req.tag.split('/').last().value().split(":").first().value() == res.metadata.annotations['update-image']` },
    resources: [
      { name: 'test-resource-1', labels: { label: 'production' }, annotations: { 'update-image': 'hello-world' } },
      { name: 'test-resource-2', labels: { label: 'production' }, annotations: { 'update-image': 'other-image' } },
      { name: 'test-resource-3', labels: { label: 'production' } },
    ],
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    payload: GCR_TAG,
    flux: { status: 200, annotated: ['test-resource-1'] },
  },
  {
    name: 'filtering out a single named resource with CEL',
    spec: { type: 'generic', resources: [ref('test-resource')], resourceFilter: `has(res.metadata.annotations) && req.tag.split('/').last().value().split(":").first().value() == res.metadata.annotations['update-image']` },
    resources: [{ name: 'test-resource', annotations: { 'update-image': 'not-hello-world' } }],
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    payload: GCR_TAG,
    flux: { status: 200, annotated: [] },
  },
  celCase('CEL filtering a GitHub receiver', { type: 'github' }, `req.action == 'push'`, { hmac: SHA256('X-Hub-Signature-256'), payload: { action: 'push' }, strictStatus: 200 }),
  celCase('CEL filtering a GitLab receiver - (does not read body)', { type: 'gitlab' }, `req.action == 'push'`, { headers: { 'X-Gitlab-Token': TOKEN }, payload: { action: 'push' }, strictStatus: 200 }),
  celCase('CEL filtering a cdevents receiver', { type: 'cdevents', events: ['cd.change.merged.v1'] }, `req.context.gitRepository == 'adamkenihan/notification-controller'`, {
    headers: { 'Ce-Type': 'cd.change.merged.v1', 'Content-Type': 'application/json; charset=utf-8' },
    payload: CDEVENT,
    strictStatus: 400,
  }),
  celCase('CEL filtering a Bitbucket receiver', { type: 'bitbucket' }, `req.action == 'push'`, { hmac: SHA256('X-Hub-Signature-256'), headers: { 'X-Event-Key': 'push' }, payload: { action: 'push' }, strictStatus: 401 }),
  celCase('CEL filtering a quay receiver', { type: 'quay' }, `req.docker_url == 'docker.io'`, { payload: { docker_url: 'docker.io', updated_tags: ['v0.0.1'] } }),
  celCase('CEL filtering a Harbor receiver - (does not read body)', { type: 'harbor' }, `req.events[0].full_name == 'prj/repo1'`, {
    headers: { Authorization: TOKEN },
    payload: { event_type: 'pushImage', events: [{ project: 'prj', repo_name: 'repo1', tag: 'latest', full_name: 'prj/repo1', trigger_time: 158322233213, image_id: '9e2c9d5f44efbb6ee83aecd17a120c513047d289d142ec5738c9f02f9b24ad07', project_type: 'Private' }] },
    strictStatus: 400,
  }),
  celCase('CEL filtering a Docker hub receiver', { type: 'dockerhub' }, `req.push_data.tag.split('/').last().value().split(':').first().value() == 'test-repo'`, {
    payload: { push_data: { tag: 'test-org/test-repo:v1.0' }, repository: { repo_url: 'docker.io' } },
    strictStatus: 400,
  }),
  celCase('CEL filtering a Nexus receiver', { type: 'nexus' }, `req.repositoryName == 'npm-proxy'`, {
    hmac: { algorithm: 'sha1', prefix: '', header: 'X-Nexus-Webhook-Signature' },
    payload: { timestamp: '2016-11-10T23:57:49.664+0000', nodeId: '52905B51-085CCABB-CEBBEAAD-16795588-FC927D93', initiator: 'admin/127.0.0.1', repositoryName: 'npm-proxy', action: 'CREATED', asset: { id: '31c950c8eeeab78336308177ae9c441c', assetId: 'bnBtLXByb3h5OjMxYzk1MGM4ZWVlYWI3ODMzNjMwODE3N2FlOWM0NDFj', format: 'npm', name: 'concrete' } },
    strictStatus: 200,
  }),
  celCase('CEL filtering an ACR receiver', { type: 'acr' }, `req.target.repository == 'hello-world'`, { payload: { action: 'push', target: { repository: 'hello-world', tag: 'v1' } } }),
  {
    name: 'handling errors when parsing the CEL expression results',
    spec: { type: 'generic', resources: [{ ...ref('*'), matchLabels: { label: 'production' } }], resourceFilter: 'res.name == "test-resource-1"' },
    resources: [{ name: 'test-resource-1', labels: { label: 'production' } }],
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    flux: { status: 500, annotated: [] },
    // The body (`null`) is not the JSON object the filter reads: refused before anything is patched.
    fluxgateStatus: 400,
  },
];

/** A CEL case on `test-resource` (Flux's testReceiverResource), annotated when Flux answers 200. */
function celCase(name: string, spec: Record<string, unknown>, filter: string, rest: Partial<Case>): Case {
  return {
    name,
    spec: { ...spec, resources: [ref('test-resource')], resourceFilter: `res.metadata.name == 'test-resource' && ${filter}` },
    resources: [{ name: 'test-resource' }],
    ...rest,
    headers: { 'Content-Type': 'application/json', ...rest.headers },
    flux: { status: 200, annotated: ['test-resource'] },
  };
}

/** What fluxgate answers by default: 202 where Flux answers 200, Flux's refusal otherwise (or the documented one), and Flux's objects. */
const byDefault = (item: Case) => ({ name: item.name, status: item.fluxgateStatus ?? (item.flux.status === 200 ? 202 : item.flux.status), annotated: item.flux.annotated });

let cluster: TestCluster;
let kubeconfig: string;
clusterForFile((started) => {
  cluster = started;
  kubeconfig = started.writeKubeconfig({ token: started.adminToken, context: 'replay' });
});

const hashedPath = (name: string, namespace: string) => `/hook/${createHash('sha256').update(`${TOKEN}${name}${namespace}`).digest('hex')}`;

/** Each case in its own namespace: its Secret, its resources and its Receiver (named as in Flux's test). */
async function applyCase(item: Case, strict: boolean): Promise<string> {
  const ns = await freshNamespace(cluster, strict ? 'strict' : 'flux');
  if (item.noReceiver) return ns;
  const receiverName = 'receiver';
  await applyAll(cluster, [
    ...(item.secret === false || item.name === 'missing secret' ? [] : [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: ns }, data: { token: Buffer.from(TOKEN).toString('base64') } }]),
    ...(item.resources ?? []).map((resource) => ({
      apiVersion: RECEIVERS.apiVersion,
      kind: 'Receiver',
      metadata: { name: resource.name, namespace: ns, ...(resource.labels ? { labels: resource.labels } : {}), ...(resource.annotations ? { annotations: resource.annotations } : {}) },
      spec: {},
    })),
    {
      apiVersion: RECEIVERS.apiVersion,
      kind: 'Receiver',
      metadata: { name: receiverName, namespace: ns, ...(strict ? { annotations: { 'fluxgate.io/strict': 'true' } } : {}) },
      spec: { ...(item.spec.type !== undefined ? { secretRef: { name: 'token' } } : {}), ...item.spec },
    },
  ]);
  return ns;
}

/** The case's request, as Flux's test builds it: the marshalled payload, its headers, the HMAC over the body. */
async function send(gateway: TestGateway, item: Case, ns: string): Promise<number> {
  const body = new TextEncoder().encode(JSON.stringify(item.payload ?? null));
  const headers: Record<string, string> = { ...item.headers };
  if (item.hmac) headers[item.hmac.header] = `${item.hmac.prefix}${createHmac(item.hmac.algorithm, TOKEN).update(body).digest('hex')}`;
  const response = await fetch(`${gateway.url}${hashedPath('receiver', ns)}`, { method: 'POST', headers, body });
  await response.arrayBuffer();
  return response.status;
}

/** The Receivers of `ns` carrying requestedAt, once every accepted delivery's patches have settled. */
async function annotatedIn(gateway: TestGateway, ns: string): Promise<string[]> {
  await eventually('every accepted delivery settled', async () => (await deliveries(gateway)).every((record) => record.objects.every((object) => object.state !== 'pending')), { timeoutMs: 20_000 });
  const list = await cluster.request('GET', `/apis/${RECEIVERS.apiVersion}/namespaces/${ns}/${RECEIVERS.plural}`);
  return (list.body.items as { metadata: { name: string; annotations?: Record<string, string> } }[])
    .filter((item) => item.metadata.annotations?.[REQUESTED_AT] !== undefined)
    .map((item) => item.metadata.name)
    .sort();
}

/** A gateway serving the Receivers of `namespaces`, with notification-controller's --no-cross-namespace-refs or not. */
function receiverGateway(namespaces: string[], crossNamespaceRefs: boolean): Promise<TestGateway> {
  const fluxReceivers = { enabled: true, namespaces, crossNamespaceRefs };
  return startTestGateway({ config: toYaml({ server: { address: '127.0.0.1:0' }, kubernetes: { mode: 'kubeconfig', kubeconfig, requestTimeout: '5s' }, reconcile: { debounce: '100ms' }, fluxReceivers }) });
}

async function replay(strict: boolean) {
  const namespaces = await Promise.all(cases.map((item) => applyCase(item, strict)));
  const locked = (index: number) => cases[index]!.noCrossNamespaceRefs === true;
  const open = await receiverGateway(namespaces.filter((_, index) => !locked(index)), true);
  const lockedDown = await receiverGateway(namespaces.filter((_, index) => locked(index)), false);
  const gatewayOf = (index: number) => (locked(index) ? lockedDown : open);
  try {
    // Every Receiver that has a path is served (GET → 405) before the first request; the others were read in the same list.
    const servable = cases.map((item, index) => ({ item, index })).filter(({ item }) => byDefault(item).status !== 404);
    const statuses = () => Promise.all(servable.map(async ({ index }) => (await fetch(`${gatewayOf(index).url}${hashedPath('receiver', namespaces[index]!)}`)).status));
    await eventually('the Receivers served', async () => (await statuses()).every((status) => status !== 404), { timeoutMs: 20_000 });
    const outcomes = [];
    for (const [index, item] of cases.entries()) outcomes.push({ name: item.name, status: await send(gatewayOf(index), item, namespaces[index]!) });
    const results = [];
    for (const [index, outcome] of outcomes.entries()) results.push({ ...outcome, annotated: await annotatedIn(gatewayOf(index), namespaces[index]!) });
    return results;
  } finally {
    await open.stop();
    await lockedDown.stop();
  }
}

describe("Flux's receiver handler cases, replayed", () => {
  let flux: { name: string; status: number; annotated: string[] }[];
  let strict: typeof flux;
  beforeAll(async () => {
    flux = await replay(false);
    strict = await replay(true);
  }, 120_000);

  test("by default: each case acts (202) where Flux answers 200 and refuses where Flux refuses, annotating the same objects; statuses differ only where documented", () => {
    expect(flux).toEqual(cases.map(byDefault));
  });

  test('with fluxgate.io/strict: "true", the stricter readings refuse or ignore (annotating nothing); the other cases as by default', () => {
    const expected = cases.map((item) => {
      if (item.strictStatus !== undefined) return { name: item.name, status: item.strictStatus, annotated: [] as string[] };
      return byDefault(item);
    });
    expect(strict).toEqual(expected);
  });
});
