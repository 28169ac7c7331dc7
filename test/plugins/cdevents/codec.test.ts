import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import cdevents from '../../../plugins/cdevents/codec.ts';
import { PayloadError, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { type ProviderSecrets } from '../../../src/config/secrets.ts';
import { codecOf, fixture, withBody } from '../../support/provider-fixtures.ts';

const codec = codecOf<ProviderSecrets>(cdevents);
const SECRET = 'cdevents shared secret';
const NOW = new Date('2023-03-20T14:30:00Z');
const MERGED = 'dev.cdevents.change.merged';
const EVENT_ID = '271069a8-fc18-44f1-b38f-9d70a1695819';
const REPOSITORIES = ['TestRepo/TestOrg', 'https://example.org/TestRepo/TestOrg'];
const hex = (algorithm: string, data: string | Uint8Array, key = SECRET) => createHmac(algorithm, key).update(data).digest('hex');

const parse = (request: WebhookRequest) => codec.parse(request, codec.describe(request.headers), { secret: SECRET });

/** A conformance example with an edited CDEvent; its `ce-*` headers follow the edit, as a producer would send them. */
function edited(name: string, edit: (cdevent: any) => void): WebhookRequest {
  const cdevent = JSON.parse(fixture('cdevents', name).text);
  edit(cdevent);
  const request = withBody(fixture('cdevents', name), JSON.stringify(cdevent));
  if (cdevent.context) {
    request.headers.set('ce-type', cdevent.context.type);
    request.headers.set('ce-id', cdevent.context.id);
  }
  return request;
}

/**
 * The same CDEvent in CloudEvents structured mode: the context attributes the binding maps (cloudevents-binding.md)
 * and the CDEvent as `data`, in one `application/cloudevents+json` body.
 */
function structured(name: string, edit: (envelope: any) => void = () => {}): WebhookRequest {
  const cdevent = JSON.parse(fixture('cdevents', name).text);
  const envelope = {
    specversion: '1.0',
    id: cdevent.context.id,
    source: cdevent.context.source,
    type: cdevent.context.type,
    subject: cdevent.subject.id,
    time: cdevent.context.timestamp,
    datacontenttype: 'application/json',
    data: cdevent,
  };
  edit(envelope);
  return { body: new TextEncoder().encode(JSON.stringify(envelope)), headers: new Headers({ 'Content-Type': 'application/cloudevents+json; charset=utf-8' }) };
}

describe('cdevents describe', () => {
  test('an empty ce-id is no delivery id (else every such delivery would be a duplicate of the first)', () => {
    expect(codec.describe(new Headers({ 'ce-type': 'dev.cdevents.change.merged.0.3.0', 'ce-id': '' }))).toEqual({ event: MERGED, deliveryId: undefined });
  });

  test.each([
    ['change-merged', 'dev.cdevents.change.merged.0.3.0'],
    ['change-merged-spec-0.4.1', 'dev.cdevents.change.merged.0.2.0'],
  ])('binary mode %s: ce-type without its version, ce-id as the delivery id', (name) => {
    expect(codec.describe(fixture('cdevents', name).headers)).toEqual({ event: MERGED, deliveryId: EVENT_ID });
  });

  test.each([
    ['dev.cdevents.change.merged.0.2.0-draft', MERGED],
    ['dev.cdevents.pipelinerun.finished.0.1.1', 'dev.cdevents.pipelinerun.finished'],
    ['dev.cdevents.change.merged', MERGED],
    ['com.example.custom', 'com.example.custom'],
  ])('%s is listed as %s', (type, event) => {
    expect(codec.describe(new Headers({ 'ce-type': type })).event).toBe(event);
  });

  test('structured mode: no ce-type header, so the body names the event', () => {
    expect(codec.describe(structured('change-merged').headers)).toEqual({});
  });

  test('defaults: merged changes only, no options', () => {
    expect(codec.defaultEvents).toEqual([MERGED]);
    expect(codec.options).toBeUndefined();
  });
});

describe('cdevents verify (X-Signature, as generic-hmac)', () => {
  const request = (signature?: string, body = fixture('cdevents', 'change-merged').body): WebhookRequest => {
    const headers = new Headers(fixture('cdevents', 'change-merged').headers);
    if (signature !== undefined) headers.set('X-Signature', signature);
    return { body, headers };
  };
  const body = fixture('cdevents', 'change-merged').body;

  test.each(['sha256', 'sha1', 'sha512'])('accepts %s=<hex> computed with node:crypto', (algorithm) => {
    expect(codec.verify(request(`${algorithm}=${hex(algorithm, body)}`), { secret: SECRET }, NOW)).toEqual({ ok: true });
  });

  test.each<[string, WebhookRequest, string]>([
    ['a missing header', request(), 'missing X-Signature header'],
    ['another secret', request(`sha256=${hex('sha256', body, 'not it')}`), 'signature does not match'],
    ['a tampered body', request(`sha256=${hex('sha256', body)}`, new TextEncoder().encode(new TextDecoder().decode(body).replace('TestRepo/TestOrg', 'TestRepo/Other'))), 'signature does not match'],
    ['bare hex', request(hex('sha256', body)), 'malformed X-Signature header (expected sha256=<hex>)'],
    ['md5', request(`md5=${hex('md5', body)}`), 'unsupported signature algorithm "md5" in X-Signature'],
  ])('refuses %s', (_name, req, reason) => {
    expect(codec.verify(req, { secret: SECRET }, NOW)).toEqual({ ok: false, reason });
  });

  test('sign makes the header verify accepts', () => {
    const headers = codec.sign(body, { secret: SECRET }, { now: NOW, deliveryId: EVENT_ID, options: {} });
    expect(headers).toEqual({ 'X-Signature': `sha256=${hex('sha256', body)}` });
    expect(codec.verify({ body, headers: new Headers(headers) }, { secret: SECRET }, NOW)).toEqual({ ok: true });
  });
});

describe('cdevents parse', () => {
  test.each(['change-merged', 'change-merged-spec-0.4.1'])('conformance example %s: the repository, by id and by source/id', (name) => {
    expect(parse(fixture('cdevents', name))).toEqual({ events: [{ event: MERGED, repositories: REPOSITORIES }] });
  });

  test('structured mode reads the same event from the envelope, and its id is the delivery id', () => {
    expect(parse(structured('change-merged'))).toEqual({ events: [{ event: MERGED, repositories: REPOSITORIES }], deliveryId: EVENT_ID });
  });

  test('structured mode: an id too long or odd to keep is no delivery id (the delivery is still read)', () => {
    const odd = (id: string) => structured('change-merged', (e) => (e.id = e.data.context.id = id));
    expect(parse(odd('x'.repeat(300)))).toEqual({ events: [{ event: MERGED, repositories: REPOSITORIES }] });
    expect(parse(odd('an id with spaces'))).toEqual({ events: [{ event: MERGED, repositories: REPOSITORIES }] });
  });

  test('other CDEvents are answered 200 (ignored): only a merged change changes code', () => {
    const created = edited('change-merged', (e) => (e.context.type = 'dev.cdevents.change.created.0.4.0'));
    expect(parse(created)).toEqual({ ignored: 'CDEvent dev.cdevents.change.created is not a merged change' });
    const odd = edited('change-merged', (e) => (e.context.type = 'x'.repeat(300)));
    expect(parse(odd)).toEqual({ ignored: 'CDEvent is not a merged change' });
  });

  test('a repository source that is a path, not a host: the id alone', () => {
    expect(parse(edited('change-merged', (e) => (e.subject.content.repository.source = '/event/source/123')))).toEqual({ events: [{ event: MERGED, repositories: ['TestRepo/TestOrg'] }] });
    expect(parse(edited('change-merged', (e) => delete e.subject.content.repository.source))).toEqual({ events: [{ event: MERGED, repositories: ['TestRepo/TestOrg'] }] });
    expect(parse(edited('change-merged', (e) => (e.subject.content.repository.source = 'my-git.example/')))).toEqual({ events: [{ event: MERGED, repositories: ['TestRepo/TestOrg', 'my-git.example/TestRepo/TestOrg'] }] });
  });

  test('a source of 128 Ki slashes and a letter is read in one pass (the timeout only catches a blow-up)', () => {
    // Trimming it with `/\/+$/` tried every slash to the end: about a minute for this source.
    const source = `${'/'.repeat(128 * 1024)}x`;
    expect(parse(edited('change-merged', (e) => (e.subject.content.repository.source = source)))).toEqual({ events: [{ event: MERGED, repositories: ['TestRepo/TestOrg'] }] });
  }, 5_000);

  test('a merged change that names no repository (the schema allows it): no repository, only unfiltered targets match', () => {
    expect(parse(edited('change-merged', (e) => delete e.subject.content.repository))).toEqual({ events: [{ event: MERGED, repositories: [] }] });
  });

  // The signature covers the body, not the ce-* headers: a replay must not be able to rename the event or its id.
  test.each<[string, WebhookRequest, string]>([
    ['ce-type', (() => { const r = fixture('cdevents', 'change-merged'); r.headers.set('ce-type', 'dev.cdevents.change.merged.0.2.0'); return r; })(), 'ce-type and context.type disagree'],
    ['ce-id', (() => { const r = fixture('cdevents', 'change-merged'); r.headers.set('ce-id', 'fresh-id'); return r; })(), 'ce-id and context.id disagree'],
    ['the envelope type', structured('change-merged', (e) => (e.type = 'dev.cdevents.change.merged.0.2.0')), 'type and context.type disagree'],
    ['the envelope id', structured('change-merged', (e) => (e.id = 'fresh-id')), 'id and context.id disagree'],
  ])('%s disagreeing with the signed CDEvent is a 400', (_name, request, message) => {
    expect(() => parse(request)).toThrow(new PayloadError(message));
  });

  test.each<[string, WebhookRequest, string]>([
    ['no context', edited('change-merged', (e) => delete e.context), 'context is missing'],
    ['a numeric type', withBody(fixture('cdevents', 'change-merged'), JSON.stringify({ context: { type: 3 } })), 'context.type is not a string'],
    ['no subject', edited('change-merged', (e) => delete e.subject), 'subject is missing'],
    ['a repository without id', edited('change-merged', (e) => delete e.subject.content.repository.id), 'subject.content.repository.id is missing'],
    ['structured without data', structured('change-merged', (e) => delete e.data), 'data is missing'],
  ])('malformed: %s', (_name, request, message) => {
    expect(() => parse(request)).toThrow(new PayloadError(message));
  });

  test('malformed: not JSON', () => {
    expect(() => parse(withBody(fixture('cdevents', 'change-merged'), '<xml/>'))).toThrow(/^payload is not valid JSON/);
  });
});
