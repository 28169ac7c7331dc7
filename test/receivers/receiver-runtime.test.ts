/**
 * A Receiver as a provider, type by type, checked against what notification-controller's handler does: the
 * published deliveries of each host, authenticated as the host does it with the Secret's token (signatures
 * computed here with node:crypto, not by the codecs), through the webhook pipeline's own decision function.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { builtinProviders } from '../../plugins/index.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import { handleWebhook, type WebhookAnswer } from '../../src/pipeline/handle-webhook.ts';
import type { WebhookRequest } from '../../src/provider-kit/contract.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import type { ObjectSelector } from '../../src/core/selector.ts';
import { createCelEvaluator } from '../../src/receivers/cel-evaluator.ts';
import { createFilterCompiler } from '../../src/receivers/cel-filter.ts';
import { systemClock } from '../../src/core/clock.ts';
import { readReceiver } from '../../src/receivers/receiver-spec.ts';
import { receiverServing, type ReceiverServing, type SecretState } from '../../src/receivers/receiver-runtime.ts';
import { fixture, withBody } from '../support/provider-fixtures.ts';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';

const catalog = builtinCatalog(builtinProviders, providerKit);
const filters = createFilterCompiler();
const evaluator = createCelEvaluator({ clock: systemClock });
afterAll(() => evaluator.close());
const TOKEN = 'receiver-token-6f1d';
const repository = { kind: 'GitRepository', name: 'app' };

function serving(spec: Record<string, unknown>, secret: SecretState | undefined = { data: { token: TOKEN } }, name = 'receiver'): ReceiverServing {
  const read = readReceiver({ metadata: { name, namespace: 'apps', generation: 1 }, spec: { secretRef: { name: 'token' }, resources: [repository], ...spec } });
  if ('problem' in read) throw new Error(read.problem);
  return receiverServing({ spec: read.spec, secret, catalog, filters, evaluator });
}

function served(spec: Record<string, unknown>, secret?: SecretState) {
  const result = serving(spec, secret);
  if (result.path === undefined) throw new Error(`not served: ${result.reason}`);
  return result;
}

async function deliver(spec: Record<string, unknown> | ReturnType<typeof served>, request: WebhookRequest): Promise<WebhookAnswer & { selectors: readonly ObjectSelector[] }> {
  const { runtime } = 'runtime' in spec ? spec : served(spec);
  let selectors: readonly ObjectSelector[] = [];
  const answer = await handleWebhook(runtime as never, request, {
    journal: { accept: (delivery) => ((selectors = delivery.selectors), { kind: 'accepted', ticket: { seq: 1, acceptedAt: 0 } }) },
    accepting: () => true,
    reporter: { rejected() {}, ignored() {}, accepted() {} },
    now: () => Date.now(),
    retryAfterSeconds: 5,
  });
  return { ...answer, selectors };
}

const hex = (algorithm: string, key: string, body: Uint8Array) => createHmac(algorithm, key).update(body).digest('hex');
const request = (body: string, headers: Record<string, string> = {}): WebhookRequest => ({ body: new TextEncoder().encode(body), headers: new Headers(headers) });

describe('the path', () => {
  test('is /hook/ + sha256(token + name + namespace), from the Secret’s token key', () => {
    expect(served({ type: 'github' }).path).toBe(`/hook/${new Bun.CryptoHasher('sha256').update(`${TOKEN}receiverapps`).digest('hex')}`);
  });

  test.each([
    ['no Secret yet', undefined, 'Secret apps/token not read yet'],
    ['a missing Secret', { problem: 'Secret apps/token not found' }, 'Secret apps/token not found'],
    ['no token key', { data: { other: 'x' } }, 'Secret apps/token has no token key'],
  ] as const)('%s: no path, not ready, with the reason', (_case, secret, reason) => {
    const read = readReceiver({ metadata: { name: 'receiver', namespace: 'apps' }, spec: { type: 'github', secretRef: { name: 'token' }, resources: [repository] } });
    if ('problem' in read) throw new Error(read.problem);
    expect(receiverServing({ spec: read.spec, secret, catalog, filters, evaluator })).toEqual({ ready: false, reason, code: 'TokenNotFound' });
  });
});

describe('types, as Flux authenticates them', () => {
  test('github: X-Hub-Signature-256 with the token; events compared case-insensitively', async () => {
    const push = fixture('github', 'push-new-branch');
    const signed = { ...Object.fromEntries(push.headers), 'X-GitHub-Event': 'Push', 'X-Hub-Signature-256': `sha256=${hex('sha256', TOKEN, push.body)}` };
    const spec = { type: 'github', events: ['PUSH'] };
    expect(await deliver(spec, { body: push.body, headers: new Headers(signed) })).toMatchObject({ status: 202, body: { targets: 1 } });
    expect(await deliver(spec, { body: push.body, headers: new Headers({ ...signed, 'X-Hub-Signature-256': `sha256=${hex('sha256', 'other', push.body)}` }) })).toMatchObject({ status: 401 });
    expect(await deliver(spec, { body: push.body, headers: new Headers({ ...signed, 'X-GitHub-Event': 'issues' }) })).toMatchObject({ status: 200, body: { ignored: expect.stringContaining('not in events [push]') } });
    // Without events: the type's own (push and ping).
    expect(await deliver({ type: 'github' }, { body: push.body, headers: new Headers(signed) })).toMatchObject({ status: 202 });
  });

  test('github: an event the Receiver lists is acted on even when it is not about code', async () => {
    const push = fixture('github', 'push-new-branch');
    const headers = new Headers({ 'Content-Type': 'application/json', 'X-GitHub-Event': 'star', 'X-Hub-Signature-256': `sha256=${hex('sha256', TOKEN, push.body)}` });
    expect(await deliver({ type: 'github', events: ['push', 'star'] }, { body: push.body, headers })).toMatchObject({ status: 202 });
  });

  test('gitlab: X-Gitlab-Token equal to the token', async () => {
    const push = fixture('gitlab', 'push-hook');
    const headers = { 'Content-Type': 'application/json', 'X-Gitlab-Event': 'push hook' };
    expect(await deliver({ type: 'gitlab', events: ['Push Hook'] }, { body: push.body, headers: new Headers({ ...headers, 'X-Gitlab-Token': TOKEN }) })).toMatchObject({ status: 202 });
    expect(await deliver({ type: 'gitlab' }, { body: push.body, headers: new Headers({ ...headers, 'X-Gitlab-Token': 'wrong' }) })).toMatchObject({ status: 401 });
  });

  test('bitbucket: one Receiver serves Bitbucket Cloud and Data Center, both signed with the token', async () => {
    for (const [name, event] of [['bitbucket', 'repo:push'], ['bitbucket-server', 'repo:refs_changed']] as const) {
      const push = fixture(name, 'push');
      push.headers.set('X-Hub-Signature', `sha256=${hex('sha256', TOKEN, push.body)}`);
      expect({ event, ...(await deliver({ type: 'bitbucket' }, push)) }).toMatchObject({ event, status: 202 });
    }
  });

  test('bitbucket: a Data Center delivery keeps its own delivery id and ping, whatever the case of its event', () => {
    const { codec } = served({ type: 'bitbucket', events: ['repo:refs_changed', 'repo:push'] }).runtime;
    expect(codec.describe(new Headers({ 'X-Event-Key': 'REPO:REFS_CHANGED', 'X-Request-Id': 'dc-1', 'X-Request-UUID': 'cloud-1' }))).toMatchObject({ event: 'repo:refs_changed', deliveryId: 'dc-1' });
    expect(codec.describe(new Headers({ 'X-Event-Key': 'repo:push', 'X-Request-Id': 'dc-1', 'X-Request-UUID': 'cloud-1' }))).toMatchObject({ event: 'repo:push', deliveryId: 'cloud-1' });
    expect(served({ type: 'bitbucket' }).runtime.codec.describe(new Headers({ 'X-Event-Key': 'diagnostics:ping' }))).toMatchObject({ ping: true });
  });

  test('harbor: Authorization equal to the token', async () => {
    const push = fixture('harbor', 'push-artifact', { Authorization: TOKEN });
    expect(await deliver({ type: 'harbor' }, push)).toMatchObject({ status: 202 });
    expect(await deliver({ type: 'harbor' }, fixture('harbor', 'push-artifact', { Authorization: 'nope' }))).toMatchObject({ status: 401 });
  });

  test('nexus: X-Nexus-Webhook-Signature, hex HMAC-SHA1 with the token', async () => {
    const asset = fixture('nexus', 'asset-created');
    asset.headers.set('X-Nexus-Webhook-Signature', hex('sha1', TOKEN, asset.body));
    expect(await deliver({ type: 'nexus' }, asset)).toMatchObject({ status: 202 });
  });

  test('generic-hmac: X-Signature with sha1, sha256 or sha512, over any body', async () => {
    for (const algorithm of ['sha1', 'sha256', 'sha512']) {
      const body = `{"anything": "${algorithm}"}`;
      const answer = await deliver({ type: 'generic-hmac' }, request(body, { 'X-Signature': `${algorithm}=${hex(algorithm, TOKEN, new TextEncoder().encode(body))}` }));
      expect({ algorithm, status: answer.status }).toEqual({ algorithm, status: 202 });
    }
    expect(await deliver({ type: 'generic-hmac' }, request('x', { 'X-Signature': `sha256=${hex('sha256', 'other', new TextEncoder().encode('x'))}` }))).toMatchObject({ status: 401 });
  });

  test.each([
    ['generic', () => request('')],
    ['generic', () => request('not json at all', { 'X-Event': 'deploy' })],
    ['dockerhub', () => fixture('dockerhub', 'push')],
    ['quay', () => fixture('quay', 'push')],
    ['acr', () => fixture('acr', 'push')],
  ])('%s: nothing to verify (the path is the secret)', async (type, make) => {
    expect(await deliver({ type }, make())).toMatchObject({ status: 202 });
  });

  test('cdevents: unsigned; events are CDEvent types, with or without their version', async () => {
    const merged = fixture('cdevents', 'change-merged');
    expect(await deliver({ type: 'cdevents', events: ['dev.cdevents.change.merged.0.3.0'] }, merged)).toMatchObject({ status: 202 });
    expect(await deliver({ type: 'cdevents', events: ['dev.cdevents.artifact.published'] }, fixture('cdevents', 'change-merged'))).toMatchObject({ status: 200 });
  });

  test('gcr: the Google token must be for the Secret’s audience and email; without them the Receiver is not ready', async () => {
    expect(serving({ type: 'gcr' }, { data: { token: TOKEN } })).toMatchObject({ ready: false, reason: 'the Secret has no email key, which a gcr Receiver needs' });
    const gcr = served({ type: 'gcr' }, { data: { token: TOKEN, email: 'pusher@project.iam.gserviceaccount.com', audience: 'https://fluxgate.example/hook/x' } });
    expect(gcr.runtime.options).toMatchObject({ audience: 'https://fluxgate.example/hook/x', serviceAccount: 'pusher@project.iam.gserviceaccount.com' });
    expect(await deliver(gcr, fixture('gcr', 'push-insert-tag'))).toMatchObject({ status: 401 });
  });
});

describe('generic-oidc', () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(() => issuer.stop());

  const oidc = () => ({
    type: 'generic-oidc',
    secretRef: undefined,
    oidcProviders: [
      {
        issuerURL: issuer.issuer,
        variables: [{ name: 'owner', expression: 'claims.repository_owner' }],
        validations: [
          { expression: "vars.owner == 'my-org'", message: 'wrong org' },
          { expression: "claims.ref == 'refs/heads/main'", message: 'main only' },
        ],
      },
    ],
  });

  test('the path is name and namespace alone; the token must pass every validation', async () => {
    const result = served(oidc(), undefined);
    expect(result.path).toBe(`/hook/${new Bun.CryptoHasher('sha256').update('receiverapps').digest('hex')}`);
    const good = await issuer.token({ aud: 'notification-controller', repository_owner: 'my-org', ref: 'refs/heads/main' });
    expect(await deliver(result, request('', { Authorization: `Bearer ${good}` }))).toMatchObject({ status: 202 });
    const bad = await issuer.token({ aud: 'notification-controller', repository_owner: 'evil', ref: 'refs/heads/dev' });
    expect(await deliver(result, request('', { Authorization: `Bearer ${bad}` }))).toMatchObject({ status: 401, body: { error: 'token validation failed: wrong org; main only' } });
    const elsewhere = await issuer.token({ aud: 'someone-else', repository_owner: 'my-org', ref: 'refs/heads/main' });
    expect(await deliver(result, request('', { Authorization: `Bearer ${elsewhere}` }))).toMatchObject({ status: 401 });
  });

  test('a token whose rules would build a value past the size bound is refused (401) with the reason', async () => {
    const spec = oidc();
    spec.oidcProviders[0]!.variables.push({ name: 'joined', expression: 'claims.parts.join(claims.glue)' });
    const result = served(spec, undefined);
    const token = await issuer.token({ aud: 'notification-controller', repository_owner: 'my-org', ref: 'refs/heads/main', parts: Array.from({ length: 1000 }, () => 'x'), glue: 'y'.repeat(100_000) });
    expect(await deliver(result, request('', { Authorization: `Bearer ${token}` }))).toMatchObject({
      status: 401,
      body: { error: "the token's rules could not be checked: join() would build a string of more than 1048576 characters" },
    });
  });

  test('a validation that is not valid CEL refuses the Receiver', () => {
    const spec = oidc();
    spec.oidcProviders[0]!.validations[0]!.expression = 'vars.owner ==';
    expect(serving(spec, undefined)).toMatchObject({ ready: false, reason: expect.stringContaining('oidcProviders[0].validations[0]: invalid CEL expression') });
  });
});

describe('suspended and refused Receivers', () => {
  test('suspended: 503 with Retry-After at its path, nothing verified', async () => {
    const result = served({ type: 'generic', suspend: true });
    expect(result).toMatchObject({ ready: true, reason: 'suspended' });
    expect(await deliver(result, request('{}'))).toMatchObject({ status: 503, headers: { 'Retry-After': '5' }, body: { error: 'the Receiver is suspended' } });
  });

  test('a resourceFilter the library cannot evaluate: not ready, 503, never "match all"', async () => {
    const result = served({ type: 'generic', resourceFilter: 'req.tag.matches("v.*")' });
    expect(result).toMatchObject({ ready: false, reason: expect.stringContaining('resourceFilter: expression refused: matches()') });
    expect(await deliver(result, request('{}'))).toMatchObject({ status: 503, body: { error: 'the Receiver is not ready' } });
  });
});

describe('resourceFilter', () => {
  const labelled = { kind: 'GitRepository', name: '*', matchLabels: { team: 'web' } };
  const object = (name: string) => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name, namespace: 'apps' } });

  test('the selectors of a delivery carry the filter bound to its body', async () => {
    const spec = { type: 'generic', resources: [labelled, repository], resourceFilter: 'req.name == res.metadata.name' };
    const answer = await deliver(spec, request('{"name": "web-b"}', { 'Content-Type': 'application/json' }));
    expect(answer.status).toBe(202);
    const [byLabels, named] = answer.selectors;
    expect(await byLabels!.filter!.accepts([object('web-a'), object('web-b')])).toEqual([false, true]);
    expect(await named!.filter!.accepts([object('app')])).toEqual([false]);
  });

  test('one delivery’s selectors are decided in one job of the evaluator, however many objects they list', async () => {
    const jobs: number[] = [];
    const counting = { ...evaluator, filter: (job: Parameters<typeof evaluator.filter>[0]) => (jobs.push(job.lists.length), evaluator.filter(job)) };
    const read = readReceiver({ metadata: { name: 'receiver', namespace: 'apps', generation: 1 }, spec: { type: 'generic', secretRef: { name: 'token' }, resources: [labelled, repository], resourceFilter: 'req.name == res.metadata.name' } });
    if ('problem' in read) throw new Error(read.problem);
    const result = receiverServing({ spec: read.spec, secret: { data: { token: TOKEN } }, catalog, filters, evaluator: counting });
    if (result.path === undefined) throw new Error(result.reason);
    const { selectors } = await deliver(result, request('{"name": "web-b"}', { 'Content-Type': 'application/json' }));
    const labelledObjects = Array.from({ length: 50 }, (_, index) => object(`web-${String.fromCharCode(97 + (index % 26))}`));
    const verdicts = await Promise.all([selectors[0]!.filter!.accepts(labelledObjects), selectors[1]!.filter!.accepts([object('app')])]);
    expect(jobs).toEqual([2]);
    expect(verdicts[1]).toEqual([false]);
  });

  test('each resource’s own filter stacks with resourceFilter', async () => {
    const spec = { type: 'generic', resources: [{ ...labelled, filter: "res.metadata.name.endsWith('-b')" }, repository], resourceFilter: "req.go == 'yes'" };
    const { selectors } = await deliver(spec, request('{"go": "yes"}', { 'Content-Type': 'application/json' }));
    // Called in one turn, as label selection calls a delivery's selectors: one job for both.
    const [first, second] = await Promise.all([selectors[0]!.filter!.accepts([object('web-a'), object('web-b')]), selectors[1]!.filter!.accepts([object('app')])]);
    expect([first, second]).toEqual([[false, true], [true]]);
  });

  test('a body that is not JSON is 400 when it says it is; {} when it does not say so', async () => {
    const spec = { type: 'generic', resourceFilter: "has(req.name) || res.metadata.name == 'app'" };
    expect(await deliver(spec, request('not json', { 'Content-Type': 'application/json' }))).toMatchObject({ status: 400 });
    const { selectors } = await deliver(spec, request('not json'));
    expect(await selectors[0]!.filter!.accepts([object('app')])).toEqual([true]);
  });

  test('one delivery’s filter evaluations share a budget: a comprehension over a large body stops deciding', async () => {
    const spec = { type: 'generic', resources: [labelled], resourceFilter: 'req.commits.exists(c, c.id == res.metadata.name)' };
    const commits = Array.from({ length: 2000 }, (_, index) => ({ id: `web-${index}` }));
    const { selectors } = await deliver(spec, request(JSON.stringify({ commits }), { 'Content-Type': 'application/json' }));
    const verdicts = await selectors[0]!.filter!.accepts(Array.from({ length: 200 }, (_, index) => object(`web-${index}`)));
    if (!Array.isArray(verdicts)) throw new Error(verdicts.error);
    expect(verdicts[0]).toBe(true);
    const refused = verdicts.findIndex((verdict) => verdict !== true);
    expect(refused).toBeGreaterThan(10);
    expect(verdicts.slice(refused).every((verdict) => typeof verdict === 'object' && verdict.error.includes('too large to filter this many objects'))).toBe(true);
  });

  test('gcr filters read the decoded notification, as Flux hands it over', async () => {
    const envelope = fixture('gcr', 'push-insert-tag', { 'Content-Type': 'application/json' });
    const gcr = served({ type: 'gcr', resourceFilter: "req.tag.contains(res.metadata.name) && req.digest.contains('@sha256:') && req.action == 'INSERT'" }, { data: { token: TOKEN, email: 'a@b.c', audience: 'x' } });
    const parsed = gcr.runtime.codec.parse(withBody(envelope, envelope.text), { event: 'INSERT' }, gcr.runtime.key);
    if ('ignored' in parsed) throw new Error(parsed.ignored);
    const { targets } = gcr.runtime.targets.candidates(parsed.events);
    const filter = targets[0]!.selectors[0]!.filter!;
    const named = (name: string) => ({ apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', metadata: { name } });
    expect(await filter.accepts([named('hello-world'), named('other')])).toEqual([true, false]);
  });
});

describe('with clusters:', () => {
  test('a Receiver read from one cluster patches its resources in that cluster only, not across the fleet', async () => {
    const { testJournal, acceptNow } = await import('../support/journal.ts');
    const { manualClock } = await import('../support/manual-clock.ts');
    const read = readReceiver({ metadata: { name: 'receiver', namespace: 'apps', generation: 1 }, spec: { type: 'generic', secretRef: { name: 'token' }, resources: [repository] } });
    if ('problem' in read) throw new Error(read.problem);
    const result = receiverServing({ spec: read.spec, secret: { data: { token: TOKEN } }, catalog, filters, evaluator, cluster: 'eu' });
    if (result.path === undefined) throw new Error(`not served: ${result.reason}`);
    const { selectors } = await deliver(result, request('{}', { 'Content-Type': 'application/json' }));
    expect(selectors.map((selector) => selector.clusters)).toEqual([['eu']]);

    const submitted: Record<string, string[]> = { eu: [], us: [] };
    const journal = testJournal({ clock: manualClock(), clusters: ['eu', 'us'], feed: (items) => items.forEach((item) => submitted[item.cluster!]!.push(item.selector.label)) });
    acceptNow(journal, selectors);
    expect(submitted).toEqual({ eu: ['GitRepository apps/app'], us: [] });
  });
});

describe('Flux reading or strict reading', () => {
  const star = () => {
    const body = new TextEncoder().encode('{"action":"started"}');
    return { body, headers: new Headers({ 'X-GitHub-Event': 'star', 'X-Hub-Signature-256': `sha256=${hex('sha256', TOKEN, body)}` }) };
  };
  const servedWith = (annotation: string | undefined, strict: boolean) => {
    const read = readReceiver({ metadata: { name: 'receiver', namespace: 'apps', ...(annotation !== undefined ? { annotations: { 'fluxgate.io/strict': annotation } } : {}) }, spec: { type: 'github', secretRef: { name: 'token' }, resources: [repository] } });
    if ('problem' in read) throw new Error(read.problem);
    const result = receiverServing({ spec: read.spec, secret: { data: { token: TOKEN } }, catalog, filters, evaluator, strict });
    if (result.path === undefined) throw new Error(result.reason);
    return result;
  };

  test('without spec.events, any event acts by default (as Flux); fluxReceivers.strict keeps to the defaults; the annotation decides for its Receiver', async () => {
    expect(await deliver(servedWith(undefined, false), star())).toMatchObject({ status: 202 });
    expect(await deliver(servedWith(undefined, true), star())).toMatchObject({ status: 200, body: { ignored: expect.stringContaining('"star" is not in events') } });
    expect(await deliver(servedWith('true', false), star())).toMatchObject({ status: 200 });
    expect(await deliver(servedWith('false', true), star())).toMatchObject({ status: 202 });
  });

  test('an annotation other than "true" or "false" is refused with the reason', () => {
    expect(readReceiver({ metadata: { name: 'receiver', namespace: 'apps', annotations: { 'fluxgate.io/strict': 'yes' } }, spec: { type: 'github', secretRef: { name: 'token' }, resources: [repository] } })).toEqual({
      problem: 'annotation fluxgate.io/strict is "true" or "false", not "yes"',
    });
  });
});
