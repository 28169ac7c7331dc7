/** Nexus Repository 3: HMAC-SHA1 of the body, docker manifest assets recorded from NXRM 3. */
import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import nexusFactory from '../../../plugins/nexus/codec.ts';
import { PayloadError, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { codecOf, fixture, keyOf, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

const nexus = codecOf(nexusFactory);
const SECRET = 'nexus-webhook-key-3f1c';
const NOW = new Date('2026-03-01T12:00:00Z');
const DIGEST = 'sha256:c88e8e35b6a936b0dbff0f34cb43f2396ecd0096de3c3dd8141943c63fa08044';
const ASSET = 'rm:repository:asset';
const COMPONENT = 'rm:repository:component';

/** Computed here with node:crypto, independently of the kit: lowercase hex HMAC-SHA1 of the bytes. */
const sha1 = (body: Uint8Array | string, secret = SECRET) => createHmac('sha1', secret).update(body).digest('hex');
const signedFixture = (name: string) => {
  const request = fixture('nexus', name);
  request.headers.set('X-Nexus-Webhook-Signature', sha1(request.body));
  return request;
};
const parse = (request: WebhookRequest, options: object = {}) => nexus.parse(request, nexus.describe(request.headers), keyOf(nexus, { secret: SECRET }, options));
/** A fixture with its JSON edited by `edit` (the smallest change that makes the case), and another event header. */
function edited(name: string, edit: (payload: any) => void, event = ASSET): WebhookRequest {
  const changed = withEditedJson(fixture('nexus', name), edit);
  changed.headers.set('X-Nexus-Webhook-Id', event);
  return changed;
}
const payloadError = (request: WebhookRequest) => payloadErrorOf(() => parse(request));

describe('nexus verify: X-Nexus-Webhook-Signature', () => {
  test('the HMAC-SHA1 of each recorded body verifies', () => {
    for (const name of ['asset-created', 'asset-updated', 'asset-updated-digest']) {
      expect(nexus.verify(signedFixture(name), { secret: SECRET }, NOW)).toEqual({ ok: true });
    }
  });

  test('the compact body Nexus actually sends verifies over its own bytes; nothing is re-serialised', () => {
    // Nexus serialises the payload without whitespace and signs exactly what it sends.
    const pretty = fixture('nexus', 'asset-created');
    const compact = withBody(pretty, JSON.stringify(JSON.parse(pretty.text)));
    compact.headers.set('X-Nexus-Webhook-Signature', sha1(compact.body));
    expect(nexus.verify(compact, { secret: SECRET }, NOW)).toEqual({ ok: true });
    // The compact body's signature does not authenticate other bytes of the same JSON.
    pretty.headers.set('X-Nexus-Webhook-Signature', sha1(compact.body));
    expect(nexus.verify(pretty, { secret: SECRET }, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('sign makes what Nexus sends, and verify accepts it', () => {
    const request = fixture('nexus', 'asset-updated');
    const headers = nexus.sign(request.body, { secret: SECRET }, { now: NOW, deliveryId: 'd-1', options: {} });
    expect(headers).toEqual({ 'X-Nexus-Webhook-Signature': sha1(request.body) });
    request.headers.set('X-Nexus-Webhook-Signature', headers['X-Nexus-Webhook-Signature']!);
    expect(nexus.verify(request, { secret: SECRET }, NOW)).toEqual({ ok: true });
  });

  test.each<[string, (request: WebhookRequest) => void, string]>([
    ['missing signature (no Secret Key set in Nexus)', () => {}, 'missing X-Nexus-Webhook-Signature header'],
    ['signed with another key', (request) => request.headers.set('X-Nexus-Webhook-Signature', sha1(request.body, 'other-key')), 'signature does not match'],
    ['a SHA-256 HMAC', (request) => request.headers.set('X-Nexus-Webhook-Signature', createHmac('sha256', SECRET).update(request.body).digest('hex')), 'signature does not match'],
    ['a prefixed signature', (request) => request.headers.set('X-Nexus-Webhook-Signature', `sha1=${sha1(request.body)}`), 'signature does not match'],
  ])('%s is refused', (_name, sign, reason) => {
    const request = fixture('nexus', 'asset-created');
    sign(request);
    const verdict = nexus.verify(request, { secret: SECRET }, NOW);
    expect(verdict).toEqual({ ok: false, reason });
    expect(JSON.stringify(verdict)).not.toContain(sha1(request.body));
  });

  test('a body changed after signing is refused', () => {
    const request = signedFixture('asset-created');
    const tampered = withBody(request, request.text.replace('manifests/v1', 'manifests/v2'));
    expect(nexus.verify(tampered, { secret: SECRET }, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('no configured secret refuses', () => {
    expect(nexus.verify(signedFixture('asset-created'), {}, NOW)).toEqual({ ok: false, reason: 'no secret configured for this provider' });
  });
});

describe('nexus options', () => {
  test.each<[string, unknown, boolean]>([
    ['none', {}, true],
    ['a registry host', { registry: 'nexus.example.com' }, true],
    ['a registry host and port', { registry: 'nexus.example.com:8082' }, true],
    ['a URL instead of a host', { registry: 'https://nexus.example.com' }, false],
    ['a host with a path', { registry: 'nexus.example.com/docker' }, false],
    ['a port of six digits', { registry: 'nexus.example.com:808200' }, false],
    ['an empty registry', { registry: '' }, false],
    ['an unknown key', { host: 'nexus.example.com' }, false],
  ])('%s', (_name, options, valid) => {
    expect(Value.Check(nexus.options!, options)).toBe(valid);
  });

  test('the default is no options', () => {
    expect(Value.Default(nexus.options!, undefined)).toEqual({});
  });
});

describe('nexus describe', () => {
  test('X-Nexus-Webhook-Id is the event, X-Nexus-Webhook-Delivery the delivery id', () => {
    for (const name of ['asset-created', 'asset-updated', 'asset-updated-digest']) {
      const request = fixture('nexus', name, { 'X-Nexus-Webhook-Delivery': '7f4a6dde-5c68-4999-bcc0-a62f3fb8ae48' });
      expect(nexus.describe(request.headers)).toEqual({ event: ASSET, deliveryId: '7f4a6dde-5c68-4999-bcc0-a62f3fb8ae48' });
    }
  });

  test('Nexus spells the header X-Nexus-Webhook-ID; header names are case-insensitive', () => {
    expect(nexus.describe(new Headers({ 'X-Nexus-Webhook-ID': COMPONENT }))).toEqual({ event: COMPONENT, deliveryId: undefined });
  });

  test('without headers: no event, no delivery id', () => {
    expect(nexus.describe(new Headers())).toEqual({ event: '', deliveryId: undefined });
  });
});

describe('nexus parse', () => {
  test('a manifest created under a tag: the image and the tag', () => {
    const expected = { events: [{ event: ASSET, repositories: [], image: { name: 'hello-world', tag: 'v1' }, tag: 'v1' }] };
    expect(parse(signedFixture('asset-created'))).toEqual(expected);
    expect(parse(signedFixture('asset-updated'))).toEqual(expected);
  });

  test('a manifest addressed by digest: the digest, no tag', () => {
    expect(parse(signedFixture('asset-updated-digest'))).toEqual({ events: [
      { event: ASSET, repositories: [], image: { name: 'hello-world', digest: DIGEST }, commit: DIGEST },
    ] });
  });

  test('options.registry: image names carry the host clients pull from', () => {
    expect(parse(signedFixture('asset-created'), { registry: 'nexus.example.com:8082' })).toEqual({
      events: [{ event: ASSET, repositories: [], image: { name: 'nexus.example.com:8082/hello-world', tag: 'v1' }, tag: 'v1' }],
    });
    expect(parse(signedFixture('asset-updated-digest'), { registry: 'nexus.example.com' })).toEqual({
      events: [{ event: ASSET, repositories: [], image: { name: 'nexus.example.com/hello-world', digest: DIGEST }, commit: DIGEST }],
    });
  });

  test('a reference that is neither a tag nor a digest names the image alone', () => {
    // Built from asset-created.json: the manifest path's reference replaced by a truncated digest.
    const request = edited('asset-created', (payload) => (payload.asset.name = 'v2/hello-world/manifests/sha256:c88e8e35'));
    expect(parse(request)).toEqual({ events: [{ event: ASSET, repositories: [], image: { name: 'hello-world' } }] });
    const component = edited('asset-created', (payload) => ((payload.component = { format: 'docker', name: 'hello-world', version: '-v1' }), delete payload.asset), COMPONENT);
    expect(parse(component)).toEqual({ events: [{ event: COMPONENT, repositories: [], image: { name: 'hello-world' } }] });
  });

  test('asset paths with a leading slash (newer Nexus stores) and nested image names', () => {
    const request = edited('asset-created', (payload) => (payload.asset.name = '/v2/platform/api/manifests/1.4.2'));
    expect(parse(request)).toEqual({ events: [{ event: ASSET, repositories: [], image: { name: 'platform/api', tag: '1.4.2' }, tag: '1.4.2' }] });
  });

  test.each(['__proto__', 'constructor', 'toString'])('an event header named like an object property (%s) is no asset or component event: ignored', (event) => {
    const request = signedFixture('asset-created');
    request.headers.set('X-Nexus-Webhook-Id', event);
    expect(parse(request)).toEqual({ ignored: 'not a repository asset or component event' });
  });

  test('a component event: name is the image, version the tag', () => {
    // No recorded component delivery was published. Built from asset-created.json by putting the fields Nexus's
    // RepositoryComponentWebhook sends (id, format, name, group, version) in place of the asset.
    const request = edited(
      'asset-created',
      (payload) => {
        payload.component = { id: payload.asset.id, format: 'docker', name: 'hello-world', group: null, version: 'v1' };
        delete payload.asset;
      },
      COMPONENT,
    );
    expect(parse(request)).toEqual({ events: [{ event: COMPONENT, repositories: [], image: { name: 'hello-world', tag: 'v1' }, tag: 'v1' }] });
  });

  test.each<[string, (payload: any) => void, string, string]>([
    ['a deleted asset', (payload) => (payload.action = 'DELETED'), ASSET, 'asset was not created or updated'],
    ['purged assets', (payload) => ((payload.action = 'PURGED'), delete payload.asset, (payload.assets = ['71afea540e23dde5'])), ASSET, 'asset was not created or updated'],
    ['an asset of a maven repository', (payload) => ((payload.asset.format = 'maven2'), (payload.asset.name = 'org/acme/app/1.0/app-1.0.jar')), ASSET, 'asset is not in a docker repository'],
    ['a layer blob', (payload) => (payload.asset.name = `v2/hello-world/blobs/${DIGEST}`), ASSET, 'asset is not an image manifest'],
    ['a tag list', (payload) => (payload.asset.name = 'v2/hello-world/tags/list'), ASSET, 'asset is not an image manifest'],
    ['an audit event', () => {}, 'rm:global:audit', 'not a repository asset or component event'],
  ])('%s is ignored (200), not an error', (_name, edit, event, ignored) => {
    expect(parse(edited('asset-created', edit, event))).toEqual({ ignored });
  });

  test.each<[string, (payload: any) => void, string]>([
    ['no action', (payload) => delete payload.action, 'action is missing'],
    ['no asset', (payload) => delete payload.asset, 'asset is missing'],
    ['an asset that is not an object', (payload) => (payload.asset = 'v2/hello-world/manifests/v1'), 'asset is not an object'],
    ['an asset without a name', (payload) => delete payload.asset.name, 'asset.name is missing'],
    ['a format of the wrong type', (payload) => (payload.asset.format = ['docker']), 'asset.format is not a string'],
  ])('PayloadError naming the field: %s', (_name, edit, message) => {
    expect(payloadError(edited('asset-created', edit))).toBe(message);
  });

  test('PayloadError for a component without a name', () => {
    const request = edited('asset-created', (payload) => ((payload.component = { format: 'docker', version: 'v1' }), delete payload.asset), COMPONENT);
    expect(payloadError(request)).toBe('component.name is missing');
  });

  test('PayloadError for a body that is not JSON', () => {
    expect(payloadError(withBody(signedFixture('asset-created'), 'action=CREATED'))).toStartWith('payload is not valid JSON');
  });
});
