import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { PayloadError, type Parsed, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { repositoryMatcher } from '../../../src/pipeline/repository-url.ts';
import azureDevops from '../../../plugins/azure-devops/codec.ts';
import { codecOf, fixture, keyOf, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

interface Key {
  password?: string;
  username?: string;
}
const codec = codecOf<Key>(azureDevops);
const secret = 'service hook password';
const now = new Date('2026-01-01T00:00:00Z');
/** The header Azure DevOps sends for a subscription's basic authentication, built here independently. */
const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
const withAuth = (name: string, header: string) => fixture('azure-devops', name, { Authorization: header });
/** The `id` of each fixture, the event's GUID. */
const ids = { push: '09b0b950-47fa-4f45-8b65-5a22686314f8', 'push-new-branch': '799c2a17-84d0-4bf8-ac8c-53493eebec3a' };

/** The message of the PayloadError `run` throws (answered 400); any other error fails the test. */
const payloadError = payloadErrorOf;

/** A real delivery with one edit made through its JSON. */
const edited = (name: string, edit: (payload: any) => void) => withEditedJson(fixture('azure-devops', name), edit);

describe('azure-devops options', () => {
  test.each<[string, unknown, boolean]>([
    ['none', {}, true],
    ['a user name', { username: 'fluxgate' }, true],
    ['an empty user name', { username: '' }, false],
    ['a user name that is not a string', { username: 7 }, false],
    ['an unknown key', { user: 'fluxgate' }, false],
  ])('%s', (_name, options, valid) => {
    expect(Value.Check(codec.options!, options)).toBe(valid);
  });

  test('the default is no options', () => {
    expect(Value.Default(codec.options!, undefined)).toEqual({});
  });
});

describe('azure-devops verify (HTTP Basic credentials of the service hook)', () => {
  const key = keyOf(codec, { secret }, {});
  const keyWithUser = keyOf(codec, { secret }, { username: 'azure' });

  test('accepts the password with any user name when none is configured', () => {
    expect(codec.verify(withAuth('push', basic('anyone', secret)), key, now)).toEqual({ ok: true });
    expect(codec.verify(withAuth('push-new-branch', basic('', secret)), key, now)).toEqual({ ok: true });
  });

  test('with options.username, the user name must match as well', () => {
    expect(codec.verify(withAuth('push', basic('azure', secret)), keyWithUser, now)).toEqual({ ok: true });
    expect(codec.verify(withAuth('push', basic('someone', secret)), keyWithUser, now)).toEqual({ ok: false, reason: 'Basic credentials do not match' });
  });

  test('accepts what sign makes, with the configured user name or else "fluxgate"', () => {
    const push = fixture('azure-devops', 'push');
    const headers = codec.sign(push.body, { secret }, { now, deliveryId: 'd', options: {} });
    expect(headers).toEqual({ Authorization: basic('fluxgate', secret) });
    for (const [name, value] of Object.entries(headers)) push.headers.set(name, value);
    expect(codec.verify(push, key, now)).toEqual({ ok: true });
    const withUser = fixture('azure-devops', 'push', codec.sign(push.body, { secret }, { now, deliveryId: 'd', options: { username: 'azure' } }));
    expect(withUser.headers.get('authorization')).toBe(basic('azure', secret));
    expect(codec.verify(withUser, keyWithUser, now)).toEqual({ ok: true });
  });

  test.each<[string, () => WebhookRequest, Key, string]>([
    ['no Authorization header', () => fixture('azure-devops', 'push'), key, 'missing Authorization header'],
    ['a bearer token', () => withAuth('push', `Bearer ${secret}`), key, 'Authorization header is not HTTP Basic credentials'],
    ['Basic without a colon', () => withAuth('push', `Basic ${Buffer.from(secret).toString('base64')}`), key, 'Authorization header is not HTTP Basic credentials'],
    ['a wrong password', () => withAuth('push', basic('anyone', 'guess')), key, 'Basic credentials do not match'],
    ['the password as user name', () => withAuth('push', basic(secret, '')), key, 'Basic credentials do not match'],
    ['a wrong password with the right user name', () => withAuth('push', basic('azure', 'guess')), keyWithUser, 'Basic credentials do not match'],
  ])('refuses %s', (_name, request, withKey, reason) => {
    const verdict = codec.verify(request(), withKey, now);
    expect(verdict).toEqual({ ok: false, reason });
  });

  test('no secret configured: refused, whatever the request says', () => {
    expect(codec.verify(withAuth('push', basic('a', '')), keyOf(codec, {}, {}), now)).toEqual({ ok: false, reason: 'no secret configured for this provider' });
  });

  test('a tampered body is NOT detected: Basic credentials authenticate the sender, not the bytes', () => {
    const push = withAuth('push', basic('anyone', secret));
    const tampered = withBody(push, push.text.replace('refs/heads/master', 'refs/heads/other'));
    expect(codec.verify(tampered, key, now)).toEqual({ ok: true });
  });

  test('verify never reads the body (the delivery id is parse\'s): one that is not JSON passes the same', () => {
    expect(codec.verify(withBody(withAuth('push', basic('anyone', secret)), '{"id":'), key, now)).toEqual({ ok: true });
    const refused = withBody(withAuth('push', basic('anyone', 'guess')), '{"id":"09b0b950-47fa-4f45-8b65-5a22686314f8"}');
    expect(codec.verify(refused, key, now)).toEqual({ ok: false, reason: 'Basic credentials do not match' });
  });
});

describe('azure-devops describe', () => {
  test.each(['push', 'push-new-branch'])('%s: the headers name neither event nor delivery (both are in the body)', (name) => {
    expect(codec.describe(withAuth(name, basic('a', secret)).headers)).toEqual({});
  });
});

describe('azure-devops parse', () => {
  const parse = (request: WebhookRequest) => codec.parse(request, {}, keyOf(codec, { secret }, {}));
  const myRepo = ['https://dev.azure.com/my-org/my-project/_git/my-repo'];

  test('a branch update', () => {
    expect(parse(fixture('azure-devops', 'push'))).toEqual({
      events: [{ event: 'git.push', repositories: myRepo, ref: 'refs/heads/master', branch: 'master', commit: '298a79aa1552799a70718a0ee914d153d5a1a76b' }],
      deliveryId: ids.push,
    });
  });

  test('a new branch', () => {
    expect(parse(fixture('azure-devops', 'push-new-branch'))).toEqual({
      deliveryId: ids['push-new-branch'],
      events: [{
        event: 'git.push',
        repositories: ['https://dev.azure.com/dependabot/Core/_git/dependabot'],
        ref: 'refs/heads/dependabot/npm_and_yarn/webpack-merge-5.7.3',
        branch: 'dependabot/npm_and_yarn/webpack-merge-5.7.3',
        commit: 'aaf58235f187b26d98a1ad66b6d094501f311afe',
      }],
    });
  });

  // No published git.push has a tag, a deletion or several refUpdates: each is the real `push` with the
  // smallest edit that makes it one.
  test('a tag push (built from push: the ref renamed)', () => {
    const request = edited('push', (p) => (p.resource.refUpdates[0].name = 'refs/tags/v1.0.0'));
    expect(parse(request)).toEqual({ events: [{ event: 'git.push', repositories: myRepo, ref: 'refs/tags/v1.0.0', tag: 'v1.0.0', commit: '298a79aa1552799a70718a0ee914d153d5a1a76b' }], deliveryId: ids.push });
  });

  test('a deleted branch (built from push: newObjectId all zeros)', () => {
    const request = edited('push', (p) => (p.resource.refUpdates[0].newObjectId = '0000000000000000000000000000000000000000'));
    expect(parse(request)).toEqual({ events: [{ event: 'git.push', repositories: myRepo, ref: 'refs/heads/master', branch: 'master', deleted: true }], deliveryId: ids.push });
  });

  test('several refUpdates are several events (built from push: a tag update added)', () => {
    const request = edited('push', (p) => p.resource.refUpdates.push({ ...p.resource.refUpdates[0], name: 'refs/tags/v1.0.0' }));
    expect(parse(request)).toEqual({
      events: [
        { event: 'git.push', repositories: myRepo, ref: 'refs/heads/master', branch: 'master', commit: '298a79aa1552799a70718a0ee914d153d5a1a76b' },
        { event: 'git.push', repositories: myRepo, ref: 'refs/tags/v1.0.0', tag: 'v1.0.0', commit: '298a79aa1552799a70718a0ee914d153d5a1a76b' },
      ],
      deliveryId: ids.push,
    });
  });

  test('the body id is the delivery id only when it is short and plain, or there is none', () => {
    const deliveryIdOf = (edit: (payload: any) => void) => (parse(edited('push', edit)) as Parsed).deliveryId;
    expect(deliveryIdOf((p) => (p.id = 'a'.repeat(64)))).toBe('a'.repeat(64));
    expect(deliveryIdOf((p) => (p.id = 'a'.repeat(65)))).toBeUndefined();
    expect(deliveryIdOf((p) => (p.id = 'id with spaces'))).toBeUndefined();
    expect(deliveryIdOf((p) => delete p.id)).toBeUndefined();
    expect(payloadError(() => deliveryIdOf((p) => (p.id = 7)))).toBe('id is not a string');
  });

  test('other event types are ignored, and so is a push without refUpdates', () => {
    expect(parse(edited('push', (p) => (p.eventType = 'git.pullrequest.merged')))).toEqual({ ignored: 'only git.push is about code' });
    expect(parse(edited('push', (p) => (p.resource.refUpdates = [])))).toEqual({ ignored: 'push lists no refUpdates' });
  });

  test.each<[string, (payload: any) => void, string]>([
    ['no eventType', (p) => delete p.eventType, 'eventType is missing'],
    ['no resource', (p) => delete p.resource, 'resource is missing'],
    ['no repository', (p) => delete p.resource.repository, 'resource.repository is missing'],
    ['no remoteUrl', (p) => delete p.resource.repository.remoteUrl, 'resource.repository.remoteUrl is missing'],
    ['refUpdates not a list', (p) => (p.resource.refUpdates = p.resource.refUpdates[0]), 'resource.refUpdates is not an array'],
    ['a ref update without a name', (p) => delete p.resource.refUpdates[0].name, 'resource.refUpdates[0].name is missing'],
    ['a ref update without newObjectId', (p) => delete p.resource.refUpdates[0].newObjectId, 'resource.refUpdates[0].newObjectId is missing'],
  ])('malformed: %s', (_name, edit, message) => {
    expect(payloadError(() => parse(edited('push', edit)))).toBe(message);
  });

  test('malformed: not JSON', () => {
    expect(payloadError(() => parse(withBody(fixture('azure-devops', 'push'), '<xml/>')))).toStartWith('payload is not valid JSON');
  });

  test(`${payloadLimits.events} refUpdates are ${payloadLimits.events} events; one more is refused`, () => {
    const updates = (count: number) => edited('push', (p) => (p.resource.refUpdates = Array.from({ length: count }, () => p.resource.refUpdates[0])));
    expect((parse(updates(payloadLimits.events)) as Parsed).events).toHaveLength(payloadLimits.events);
    expect(payloadError(() => parse(updates(payloadLimits.events + 1)))).toBe(`resource.refUpdates has more than ${payloadLimits.events} entries (the limit)`);
  });
});

describe('azure-devops repositories match the URLs a GitRepository uses', () => {
  const [event] = (codec.parse(fixture('azure-devops', 'push'), {}, keyOf(codec, { secret }, {})) as Parsed).events;
  test.each([
    'https://dev.azure.com/my-org/my-project/_git/my-repo',
    'https://my-org@dev.azure.com/my-org/my-project/_git/my-repo',
    'ssh://git@ssh.dev.azure.com/v3/my-org/my-project/my-repo',
    'https://my-org.visualstudio.com/my-project/_git/my-repo',
    'my-org/my-project/my-repo',
  ])('%s', (pattern) => {
    expect(repositoryMatcher(pattern)(event!.repositories)).toBe(true);
  });

  test('not another repository of the project', () => {
    expect(repositoryMatcher('https://dev.azure.com/my-org/my-project/_git/other')(event!.repositories)).toBe(false);
  });
});
