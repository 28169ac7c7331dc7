/** Quay: unsigned Repository Push notifications, from the Red Hat Quay and quay.io documentation. */
import { describe, expect, test } from 'bun:test';
import quayFactory from '../../../plugins/quay/codec.ts';
import { PayloadError, type Parsed, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { codecOf, fixture, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

const quay = codecOf(quayFactory);
const NOW = new Date('2026-03-01T12:00:00Z');

const parse = (request: WebhookRequest) => quay.parse(request, quay.describe(request.headers), {});
/** A fixture with its JSON edited by `edit` (the smallest change that makes the case). */
const edited = (name: string, edit: (payload: any) => void) => withEditedJson(fixture('quay', name), edit);
const payloadError = (request: WebhookRequest) => payloadErrorOf(() => parse(request));

describe('quay authentication', () => {
  test('unsigned: no secret field, so a provider needs allowUnsigned: true and verify is never called', () => {
    expect(quay.secretFields).toEqual([]);
    expect(quay.sign(fixture('quay', 'push').body, {}, { now: NOW, deliveryId: 'd-1', options: {} })).toEqual({});
    expect(quay.verify(fixture('quay', 'push'), {}, NOW)).toEqual({ ok: false, reason: 'Quay sends no credential to verify; this type needs allowUnsigned: true' });
  });
});

describe('quay describe', () => {
  test('no header names the event: the body does (repo_push)', () => {
    expect(quay.describe(fixture('quay', 'push').headers)).toEqual({});
    expect(quay.defaultEvents).toEqual(['repo_push']);
  });
});

describe('quay parse', () => {
  test('each documented push: docker_url (with the registry host) and its tag', () => {
    expect(parse(fixture('quay', 'push'))).toEqual({ events: [{ event: 'repo_push', repositories: [], image: { name: 'quay.io/dgangaia/test', tag: 'latest' }, tag: 'latest' }] });
    expect(parse(fixture('quay', 'push-quayio'))).toEqual({ events: [
      { event: 'repo_push', repositories: [], image: { name: 'quay.io/mynamespace/repository', tag: 'latest' }, tag: 'latest' },
    ] });
  });

  test('the body as Quay sends it (json.dumps on one line) parses the same as the documented text', () => {
    const request = fixture('quay', 'push');
    expect(parse(withBody(request, JSON.stringify(JSON.parse(request.text))))).toEqual(parse(request));
  });

  test('several updated tags are several events', () => {
    // Built from push.json: two tags, as Quay's own sample data lists them.
    const events = parse(edited('push', (payload) => (payload.updated_tags = ['latest', 'foo'])));
    expect(events).toEqual({ events: [
      { event: 'repo_push', repositories: [], image: { name: 'quay.io/dgangaia/test', tag: 'latest' }, tag: 'latest' },
      { event: 'repo_push', repositories: [], image: { name: 'quay.io/dgangaia/test', tag: 'foo' }, tag: 'foo' },
    ] });
  });

  test('no docker_url: the repository (namespace/name)', () => {
    expect(parse(edited('push', (payload) => delete payload.docker_url))).toEqual({ events: [
      { event: 'repo_push', repositories: [], image: { name: 'dgangaia/test', tag: 'latest' }, tag: 'latest' },
    ] });
  });

  test('a push that updated no tag still names the image', () => {
    expect(parse(edited('push', (payload) => (payload.updated_tags = [])))).toEqual({ events: [{ event: 'repo_push', repositories: [], image: { name: 'quay.io/dgangaia/test' } }] });
  });

  test('another notification to the same URL (no updated_tags: a build, a vulnerability) is ignored', () => {
    // Built from push.json: the field that makes it a push removed.
    expect(parse(edited('push', (payload) => delete payload.updated_tags))).toEqual({ ignored: 'not a repository push notification (no updated_tags)' });
  });

  test.each<[string, (payload: any) => void, string]>([
    ['updated_tags as an object (the shape very old docs showed)', (payload) => (payload.updated_tags = { latest: 'sha256:0a1b' }), 'updated_tags is not an array'],
    ['a tag that is not a string', (payload) => (payload.updated_tags = ['latest', 7]), 'updated_tags[1] is not a tag name'],
    ['an empty tag', (payload) => (payload.updated_tags = ['']), 'updated_tags[0] is not a tag name'],
    ['neither docker_url nor repository', (payload) => (delete payload.docker_url, delete payload.repository), 'repository is missing'],
    ['docker_url of the wrong type', (payload) => (payload.docker_url = 1), 'docker_url is not a string'],
  ])('PayloadError naming the field: %s', (_name, edit, message) => {
    expect(payloadError(edited('push', edit))).toBe(message);
  });

  test(`updated_tags is capped at ${payloadLimits.events} events`, () => {
    const tags = (count: number) => edited('push', (payload) => (payload.updated_tags = Array.from({ length: count }, (_, index) => `v${index}`)));
    expect((parse(tags(payloadLimits.events)) as Parsed).events).toHaveLength(payloadLimits.events);
    expect(payloadError(tags(payloadLimits.events + 1))).toBe(`updated_tags has more than ${payloadLimits.events} entries (the limit)`);
  });
});
