/** Harbor: the Authorization header as configured, Default and CloudEvents payloads from Harbor's documentation. */
import { describe, expect, test } from 'bun:test';
import harborFactory from '../../../plugins/harbor/codec.ts';
import { type Parsed, PayloadError, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { codecOf, eventsOf, fixture, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

const harbor = codecOf(harborFactory);
const SECRET = 'Basic cm9ib3QkZmx1eGdhdGU6ZDRmM2E5YjEyYzA3';
const NOW = new Date('2026-03-01T12:00:00Z');
const PUSHED = 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8';
const REPLICATED = 'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4';

const signed = (name: string) => fixture('harbor', name, { Authorization: SECRET });
const parse = (request: WebhookRequest) => harbor.parse(request, harbor.describe(request.headers), { secret: SECRET });
/** A fixture with its JSON edited by `edit` (the smallest change that makes the case). */
const edited = (name: string, edit: (payload: any) => void) => withEditedJson(signed(name), edit);
const payloadError = (request: WebhookRequest) => payloadErrorOf(() => parse(request));

describe('harbor verify: the Authorization header equals the secret', () => {
  test('the configured header value is accepted, in both formats', () => {
    for (const name of ['push-artifact', 'push-artifact-replicated', 'artifact-pushed-cloudevents']) {
      expect(harbor.verify(signed(name), { secret: SECRET }, NOW)).toEqual({ ok: true });
    }
  });

  test('what sign makes is what verify accepts: the header verbatim', () => {
    const request = fixture('harbor', 'push-artifact');
    const headers = harbor.sign(request.body, { secret: SECRET }, { now: NOW, deliveryId: 'd-1', options: {} });
    expect(headers).toEqual({ Authorization: SECRET });
    for (const [key, value] of Object.entries(headers)) request.headers.set(key, value);
    expect(harbor.verify(request, { secret: SECRET }, NOW)).toEqual({ ok: true });
  });

  test.each([
    ['missing header', undefined, 'missing Authorization header'],
    ['another value', 'Basic d3Jvbmc6d3Jvbmc=', 'Authorization header does not match'],
    ['the secret as a bearer token', `Bearer ${SECRET}`, 'Authorization header does not match'],
    ['a prefix of the secret', SECRET.slice(0, -1), 'Authorization header does not match'],
  ])('%s is refused', (_name, value, reason) => {
    const request = fixture('harbor', 'push-artifact', value === undefined ? {} : { Authorization: value });
    expect(request.headers.has('authorization')).toBe(value !== undefined);
    expect(harbor.verify(request, { secret: SECRET }, NOW)).toEqual({ ok: false, reason });
  });

  test('no configured secret refuses, whatever the header says', () => {
    expect(harbor.verify(signed('push-artifact'), {}, NOW)).toEqual({ ok: false, reason: 'no secret configured for this provider' });
  });

  test('the header authenticates the sender, not the bytes: an edited body with the right header verifies', () => {
    // Harbor has no body signature (neither Flux nor Argo CD can check more); this pins what the type guarantees.
    const tampered = edited('push-artifact', (payload) => (payload.event_data.resources[0].tag = 'evil'));
    expect(harbor.verify(tampered, { secret: SECRET }, NOW)).toEqual({ ok: true });
  });
});

describe('harbor describe', () => {
  test('no header names the event or the delivery: the body does', () => {
    for (const name of ['push-artifact', 'push-artifact-replicated', 'artifact-pushed-cloudevents']) {
      expect(harbor.describe(signed(name).headers)).toEqual({});
    }
  });
});

describe('harbor parse', () => {
  test('Default format, tag pushed by a user: the image with its registry host, tag and digest', () => {
    expect(parse(signed('push-artifact'))).toEqual({ events: [
      {
        event: 'PUSH_ARTIFACT',
        repositories: [],
        image: { name: 'hub.harbor.com/test-webhook/debian', tag: 'latest', digest: PUSHED },
        tag: 'latest',
        commit: PUSHED,
        pushedAt: 1586922308000,
      },
    ] });
  });

  test('Default format, pushed by replication: the "tag" is the digest, so the event has no tag', () => {
    expect(parse(signed('push-artifact-replicated'))).toEqual({ events: [
      { event: 'PUSH_ARTIFACT', repositories: [], image: { name: 'localhost/harbor/alpine', digest: REPLICATED }, commit: REPLICATED, pushedAt: 1680501893000 },
    ] });
  });

  test('CloudEvents format: harbor.artifact.pushed is named PUSH_ARTIFACT, like the Default format; its id is the delivery id', () => {
    // The same artifact; the event's own time is the CloudEvent's `time` (2023-04-03T06:04:46Z), not occur_at's replication.
    const replicated = parse(signed('push-artifact-replicated')) as Parsed;
    const sameArtifact = { events: replicated.events.map((event) => ({ ...event, pushedAt: Date.parse('2023-04-03T06:04:46Z') })) };
    expect(parse(signed('artifact-pushed-cloudevents'))).toEqual({ ...sameArtifact, deliveryId: '66e18103-09c1-41f6-982f-37df223f3eeb' });
  });

  test('a CloudEvents id too long or odd to keep is no delivery id (the delivery is still read)', () => {
    const { deliveryId: _id, ...withoutId } = parse(signed('artifact-pushed-cloudevents')) as Parsed;
    expect(parse(edited('artifact-pushed-cloudevents', (payload) => (payload.id = 'x'.repeat(65))))).toEqual(withoutId);
    expect(parse(edited('artifact-pushed-cloudevents', (payload) => (payload.id = '<b>id</b>')))).toEqual(withoutId);
  });

  test('several resources are several events', () => {
    // Built from push-artifact.json: a second resource, the same digest under a second tag.
    const request = edited('push-artifact', (payload) => {
      const [first] = payload.event_data.resources;
      payload.event_data.resources.push({ ...first, tag: 'bookworm', resource_url: 'hub.harbor.com/test-webhook/debian:bookworm' });
    });
    const events = eventsOf(parse(request));
    expect(events.map((event) => event.tag)).toEqual(['latest', 'bookworm']);
    expect(new Set(events.map((event) => event.image?.name))).toEqual(new Set(['hub.harbor.com/test-webhook/debian']));
  });

  test('DELETE_ARTIFACT and harbor.artifact.deleted are deletions (they never match)', () => {
    const deleted = parse(edited('push-artifact', (payload) => (payload.type = 'DELETE_ARTIFACT')));
    expect(deleted).toEqual({ events: [expect.objectContaining({ event: 'DELETE_ARTIFACT', tag: 'latest', deleted: true })] });
    const cloudDeleted = parse(edited('artifact-pushed-cloudevents', (payload) => (payload.type = 'harbor.artifact.deleted')));
    expect(cloudDeleted).toEqual({ events: [expect.objectContaining({ event: 'DELETE_ARTIFACT', commit: REPLICATED, deleted: true })], deliveryId: '66e18103-09c1-41f6-982f-37df223f3eeb' });
  });

  test.each([
    ['PULL_ARTIFACT', 'push-artifact', 'Harbor event PULL_ARTIFACT is not about a pushed or deleted artifact'],
    ['SCANNING_COMPLETED', 'push-artifact', 'Harbor event SCANNING_COMPLETED is not about a pushed or deleted artifact'],
    ['harbor.artifact.pulled', 'artifact-pushed-cloudevents', 'Harbor event harbor.artifact.pulled is not about a pushed or deleted artifact'],
    ['<b>unplain</b>', 'push-artifact', 'Harbor event (unnamed) is not about a pushed or deleted artifact'],
  ])('%s is ignored (200), not an error', (type, name, ignored) => {
    expect(parse(edited(name, (payload) => (payload.type = type)))).toEqual({ ignored });
  });

  test.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('a type named like an object property (%s) is an unknown event, ignored', (type) => {
    expect(parse(edited('push-artifact', (payload) => (payload.type = type)))).toEqual({ ignored: `Harbor event ${type} is not about a pushed or deleted artifact` });
  });

  test('a push naming no resource is ignored', () => {
    expect(parse(edited('push-artifact', (payload) => (payload.event_data.resources = [])))).toEqual({ ignored: 'PUSH_ARTIFACT names no artifact' });
  });

  test.each([
    ['no resource_url: the repository alone', undefined, 'test-webhook/debian'],
    ['a registry host with a port', 'harbor.example.com:8443/test-webhook/debian:latest', 'harbor.example.com:8443/test-webhook/debian'],
    ['a digest reference', `hub.harbor.com/test-webhook/debian@${PUSHED}`, 'hub.harbor.com/test-webhook/debian'],
    ['a URL about another repository: the repository alone', 'hub.harbor.com/other/debian:latest', 'test-webhook/debian'],
  ])('image name from resource_url: %s', (_name, url, expected) => {
    const request = edited('push-artifact', (payload) => {
      if (url === undefined) delete payload.event_data.resources[0].resource_url;
      else payload.event_data.resources[0].resource_url = url;
    });
    expect(parse(request)).toEqual({ events: [expect.objectContaining({ image: { name: expected, tag: 'latest', digest: PUSHED } })] });
  });

  test('a resource_url of 128 Ki colons and a slash is read in one pass (the timeout only catches a blow-up)', () => {
    // Stripping the reference with `/[:@][^/]*$/` tried every colon up to the slash: about a minute for this URL.
    const request = edited('push-artifact', (payload) => (payload.event_data.resources[0].resource_url = `${':'.repeat(128 * 1024)}/`));
    expect(parse(request)).toEqual({ events: [expect.objectContaining({ image: { name: 'test-webhook/debian', tag: 'latest', digest: PUSHED } })] });
  }, 5_000);

  test.each<[string, (payload: any) => void, string]>([
    ['no type', (payload) => delete payload.type, 'type is missing'],
    ['no event_data', (payload) => delete payload.event_data, 'event_data is missing'],
    ['no repository', (payload) => delete payload.event_data.repository, 'event_data.repository is missing'],
    ['repo_full_name of the wrong type', (payload) => (payload.event_data.repository.repo_full_name = 7), 'event_data.repository.repo_full_name is not a string'],
    ['resources not a list', (payload) => (payload.event_data.resources = {}), 'event_data.resources is not an array'],
    ['a resource that is not an object', (payload) => (payload.event_data.resources = ['latest']), 'event_data.resources[0] is not an object'],
    ['a tag of the wrong type', (payload) => (payload.event_data.resources[0].tag = 1), 'event_data.resources[0].tag is not a string'],
  ])('PayloadError naming the field: %s', (_name, edit, message) => {
    expect(payloadError(edited('push-artifact', edit))).toBe(message);
  });

  test('PayloadError in the CloudEvents format names data', () => {
    expect(payloadError(edited('artifact-pushed-cloudevents', (payload) => delete payload.data.repository))).toBe('data.repository is missing');
  });

  test('PayloadError for a body that is not a JSON object', () => {
    expect(payloadError(withBody(signed('push-artifact'), '{"type":'))).toStartWith('payload is not valid JSON');
    expect(payloadError(withBody(signed('push-artifact'), '[]'))).toBe('payload is not a JSON object');
  });

  test(`resources are capped at ${payloadLimits.events} events`, () => {
    const withResources = (count: number) =>
      edited('push-artifact', (payload) => {
        const [first] = payload.event_data.resources;
        payload.event_data.resources = Array.from({ length: count }, (_, index) => ({ ...first, tag: `v${index}` }));
      });
    expect(eventsOf(parse(withResources(payloadLimits.events)))).toHaveLength(payloadLimits.events);
    expect(payloadError(withResources(payloadLimits.events + 1))).toBe(`event_data.resources has more than ${payloadLimits.events} entries (the limit)`);
  });
});
