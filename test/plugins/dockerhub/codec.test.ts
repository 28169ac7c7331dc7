/** Docker Hub: unsigned push notifications, Docker's documented example and a recorded delivery of the old format. */
import { describe, expect, test } from 'bun:test';
import dockerhubFactory from '../../../plugins/dockerhub/codec.ts';
import { PayloadError, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { codecOf, fixture, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

const dockerhub = codecOf(dockerhubFactory);
const NOW = new Date('2026-03-01T12:00:00Z');

const parse = (request: WebhookRequest) => dockerhub.parse(request, dockerhub.describe(request.headers), {});
/** A fixture with its JSON edited by `edit` (the smallest change that makes the case). */
const edited = (name: string, edit: (payload: any) => void) => withEditedJson(fixture('dockerhub', name), edit);
const payloadError = (request: WebhookRequest) => payloadErrorOf(() => parse(request));

describe('dockerhub authentication', () => {
  test('unsigned: no secret field, so a provider needs allowUnsigned: true and verify is never called', () => {
    expect(dockerhub.secretFields).toEqual([]);
    expect(dockerhub.keyless).toBeUndefined();
    expect(dockerhub.sign(fixture('dockerhub', 'push').body, {}, { now: NOW, deliveryId: 'd-1', options: {} })).toEqual({});
  });

  test('verify, if it were ever reached, claims nothing', () => {
    expect(dockerhub.verify(fixture('dockerhub', 'push'), {}, NOW)).toEqual({ ok: false, reason: 'Docker Hub sends no credential to verify; this type needs allowUnsigned: true' });
  });
});

describe('dockerhub describe', () => {
  test('every delivery is a push; there is no delivery id', () => {
    expect(dockerhub.describe(fixture('dockerhub', 'push').headers)).toEqual({ event: 'push' });
    expect(dockerhub.defaultEvents).toEqual(['push']);
  });
});

describe('dockerhub parse', () => {
  test('the documented push: repo_name and push_data.tag, no digest', () => {
    expect(parse(fixture('dockerhub', 'push'))).toEqual({ events: [
      { event: 'push', repositories: [], image: { name: 'svendowideit/testhook', tag: 'latest' }, tag: 'latest', pushedAt: 1417566161000 },
    ] });
  });

  test('the old format has no push_data.tag: the image alone', () => {
    expect(parse(fixture('dockerhub', 'push-legacy-no-tag'))).toEqual({ events: [
      { event: 'push', repositories: [], image: { name: 'csanchez/jenkins-swarm-slave' }, pushedAt: 1429028158000 },
    ] });
  });

  test('an empty tag is no tag', () => {
    expect(parse(edited('push', (payload) => (payload.push_data.tag = '')))).toEqual({ events: [
      { event: 'push', repositories: [], image: { name: 'svendowideit/testhook' }, pushedAt: 1417566161000 },
    ] });
  });

  test.each<[string, (payload: any) => void, string]>([
    ['no repository', (payload) => delete payload.repository, 'repository is missing'],
    ['no repo_name', (payload) => delete payload.repository.repo_name, 'repository.repo_name is missing'],
    ['repo_name of the wrong type', (payload) => (payload.repository.repo_name = ['svendowideit/testhook']), 'repository.repo_name is not a string'],
    ['push_data not an object', (payload) => (payload.push_data = 'latest'), 'push_data is not an object'],
    ['a tag of the wrong type', (payload) => (payload.push_data.tag = 1), 'push_data.tag is not a string'],
  ])('PayloadError naming the field: %s', (_name, edit, message) => {
    expect(payloadError(edited('push', edit))).toBe(message);
  });

  test('PayloadError for a body that is not a JSON object', () => {
    expect(payloadError(withBody(fixture('dockerhub', 'push'), '"push"'))).toBe('payload is not a JSON object');
  });
});
