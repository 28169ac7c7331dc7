/** Azure Container Registry: a custom header as configured, Microsoft's documented push and a recorded one. */
import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import acrFactory from '../../../plugins/acr/codec.ts';
import { PayloadError, type Parsed, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { codecOf, fixture, keyOf, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

const acr = codecOf<unknown>(acrFactory);
const SECRET = 'Bearer 7c0e4f2a91d84b6f';
const NOW = new Date('2026-03-01T12:00:00Z');
const DIGEST = 'sha256:f5233545e43561214ca4891fd1157e1c3c563316ed8e237750d59bde73361e77';
const EVENT_ID = '52ba983c-67d6-11e8-8c71-4a0006ae5a20';
const defaultKey = keyOf(acr, { secret: SECRET });

const parse = (request: WebhookRequest) => acr.parse(request, acr.describe(request.headers), defaultKey);
/** A fixture with its JSON edited by `edit` (the smallest change that makes the case). */
const edited = (name: string, edit: (payload: any) => void) => withEditedJson(fixture('acr', name), edit);
const payloadError = (request: WebhookRequest) => payloadErrorOf(() => parse(request));

describe('acr options', () => {
  test.each<[string, unknown, boolean]>([
    ['none: valid', {}, true],
    ['a custom header: valid', { header: 'X-Fluxgate-Token' }, true],
    ['a header name with a space: rejected', { header: 'X Token' }, false],
    ['a header name with a colon: rejected', { header: 'X-Token:' }, false],
    ['an empty header name: rejected', { header: '' }, false],
    ['a header name that is not a string: rejected', { header: 7 }, false],
    ['an unknown option: rejected', { headers: 'X-Token' }, false],
  ])('%s', (_name, options, valid) => {
    expect(Value.Check(acr.options!, options)).toBe(valid);
  });

  test('header defaults to Authorization, in the schema and in prepare', () => {
    expect(Value.Default(acr.options!, {})).toEqual({ header: 'Authorization' });
    expect(keyOf(acr, { secret: SECRET })).toEqual({ header: 'Authorization', secret: SECRET });
    expect(keyOf(acr, { secret: SECRET }, { header: 'X-Fluxgate-Token' })).toEqual({ header: 'X-Fluxgate-Token', secret: SECRET });
  });
});

describe('acr verify: the configured custom header equals the secret', () => {
  test('accepted; verify names no delivery id (the body\'s is parse\'s)', () => {
    expect(acr.verify(fixture('acr', 'push-valid-digest', { Authorization: SECRET }), defaultKey, NOW)).toEqual({ ok: true });
    expect(acr.verify(fixture('acr', 'push', { Authorization: SECRET }), defaultKey, NOW)).toEqual({ ok: true });
  });

  test('a header named in options', () => {
    const key = keyOf(acr, { secret: SECRET }, { header: 'X-Fluxgate-Token' });
    expect(acr.verify(fixture('acr', 'push-valid-digest', { 'x-fluxgate-token': SECRET }), key, NOW)).toEqual({ ok: true });
    expect(acr.verify(fixture('acr', 'push-valid-digest', { Authorization: SECRET }), key, NOW)).toEqual({ ok: false, reason: 'missing X-Fluxgate-Token header' });
  });

  test('what sign makes verifies: the default header, or the one options name', () => {
    const request = fixture('acr', 'push-valid-digest');
    const headers = acr.sign(request.body, { secret: SECRET }, { now: NOW, deliveryId: 'd-1', options: { header: 'Authorization' } });
    expect(headers).toEqual({ Authorization: SECRET });
    for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
    expect(acr.verify(request, defaultKey, NOW)).toEqual({ ok: true });
    const custom = acr.sign(request.body, { secret: SECRET }, { now: NOW, deliveryId: 'd-1', options: { header: 'X-Fluxgate-Token' } });
    expect(custom).toEqual({ 'X-Fluxgate-Token': SECRET });
    expect(acr.verify(fixture('acr', 'push-valid-digest', custom), keyOf(acr, { secret: SECRET }, { header: 'X-Fluxgate-Token' }), NOW)).toEqual({ ok: true });
  });

  test.each([
    ['missing header', undefined, 'missing Authorization header'],
    ['another value', 'Bearer 0000000000000000', 'Authorization header does not match'],
    ['the token without its scheme', SECRET.replace('Bearer ', ''), 'Authorization header does not match'],
  ])('%s is refused', (_name, value, reason) => {
    const request = fixture('acr', 'push-valid-digest', value === undefined ? {} : { Authorization: value });
    expect(acr.verify(request, defaultKey, NOW)).toEqual({ ok: false, reason });
  });

  test('no configured secret refuses', () => {
    expect(acr.verify(fixture('acr', 'push', { Authorization: SECRET }), keyOf(acr, {}), NOW)).toEqual({ ok: false, reason: 'no secret configured for this provider' });
  });

  test('the header authenticates the sender, not the bytes: verify never reads the body', () => {
    const request = fixture('acr', 'push-valid-digest', { Authorization: SECRET });
    expect(acr.verify(withBody(request, request.text.replace(EVENT_ID, 'another-id')), defaultKey, NOW)).toEqual({ ok: true });
    expect(acr.verify(withBody(request, 'not json'), defaultKey, NOW)).toEqual({ ok: true });
  });
});

describe('acr describe', () => {
  test('no header names the event or the delivery: the body does', () => {
    expect(acr.describe(fixture('acr', 'push', { Authorization: SECRET }).headers)).toEqual({});
    expect(acr.defaultEvents).toEqual(['push', 'chart_push']);
  });
});

describe('acr parse', () => {
  test('a recorded push: the image under the registry host, its tag and digest; the body id is the delivery id', () => {
    expect(parse(fixture('acr', 'push-valid-digest'))).toEqual({
      events: [{ event: 'push', repositories: [], image: { name: 'myregistry.azurecr.io/hello-world', tag: 'v1', digest: DIGEST }, tag: 'v1', commit: DIGEST }],
      deliveryId: EVENT_ID,
    });
  });

  test("the documented push: Microsoft masked the digest, which is then left out (the tag still matches)", () => {
    expect(parse(fixture('acr', 'push'))).toEqual({
      events: [{ event: 'push', repositories: [], image: { name: 'myregistry.azurecr.io/hello-world', tag: 'v1' }, tag: 'v1' }],
      deliveryId: 'cb8c3971-9adc-488b-xxxx-43cbb4974ff5',
    });
  });

  test('the body id is the delivery id only when it is short and plain, or there is none', () => {
    const deliveryIdOf = (edit: (payload: any) => void) => (parse(edited('push-valid-digest', edit)) as Parsed).deliveryId;
    expect(deliveryIdOf((payload) => (payload.id = 'another-id'))).toBe('another-id');
    expect(deliveryIdOf((payload) => (payload.id = 'x'.repeat(64)))).toBe('x'.repeat(64));
    expect(deliveryIdOf((payload) => (payload.id = 'x'.repeat(65)))).toBeUndefined();
    expect(deliveryIdOf((payload) => (payload.id = 'an id with spaces'))).toBeUndefined();
    expect(deliveryIdOf((payload) => delete payload.id)).toBeUndefined();
  });

  test('a delete (no tag, as documented) is a deletion', () => {
    // Built from push-valid-digest.json: the action and the absent tag of the documented delete payload.
    const request = edited('push-valid-digest', (payload) => ((payload.action = 'delete'), delete payload.target.tag));
    expect(parse(request)).toEqual({
      events: [{ event: 'delete', repositories: [], image: { name: 'myregistry.azurecr.io/hello-world', digest: DIGEST }, commit: DIGEST, deleted: true }],
      deliveryId: EVENT_ID,
    });
  });

  test('a chart push has no request, so no registry host', () => {
    // Built from push-valid-digest.json: the action, the chart's tag, and no `request`, as documented for chart_push.
    const request = edited('push-valid-digest', (payload) => ((payload.action = 'chart_push'), (payload.target.tag = 'wordpress-5.4.0.tgz'), delete payload.request));
    expect(parse(request)).toEqual({
      events: [{ event: 'chart_push', repositories: [], image: { name: 'hello-world', tag: 'wordpress-5.4.0.tgz', digest: DIGEST }, tag: 'wordpress-5.4.0.tgz', commit: DIGEST }],
      deliveryId: EVENT_ID,
    });
    expect(parse(edited('push-valid-digest', (payload) => ((payload.action = 'chart_delete'), delete payload.request)))).toEqual({ events: [expect.objectContaining({ event: 'chart_delete', deleted: true })], deliveryId: EVENT_ID });
  });

  test.each([
    ['quarantine', 'ACR action quarantine is not a push or delete'],
    ['<script>', 'ACR action (unnamed) is not a push or delete'],
  ])('action %s is ignored (200)', (action, ignored) => {
    expect(parse(edited('push-valid-digest', (payload) => (payload.action = action)))).toEqual({ ignored });
  });

  test.each<[string, (payload: any) => void, string]>([
    ['no action', (payload) => delete payload.action, 'action is missing'],
    ['no target', (payload) => delete payload.target, 'target is missing'],
    ['no repository', (payload) => delete payload.target.repository, 'target.repository is missing'],
    ['a tag of the wrong type', (payload) => (payload.target.tag = 1), 'target.tag is not a string'],
    ['request not an object', (payload) => (payload.request = 'myregistry.azurecr.io'), 'request is not an object'],
    ['a host of the wrong type', (payload) => (payload.request.host = true), 'request.host is not a string'],
  ])('PayloadError naming the field: %s', (_name, edit, message) => {
    expect(payloadError(edited('push-valid-digest', edit))).toBe(message);
  });

  test('PayloadError for a body that is not JSON', () => {
    expect(payloadError(withBody(fixture('acr', 'push'), 'not json'))).toStartWith('payload is not valid JSON');
  });
});
