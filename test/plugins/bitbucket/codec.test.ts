import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { PayloadError } from '../../../src/provider-kit/contract.ts';
import { type ProviderSecrets } from '../../../src/config/secrets.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { repositoryMatcher } from '../../../src/pipeline/repository-url.ts';
import bitbucket from '../../../plugins/bitbucket/codec.ts';
import { codecOf, eventsOf, fixture, keyOf, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

const codec = codecOf<ProviderSecrets>(bitbucket);
/** The secret Bitbucket's published `push-signed` delivery was signed with (see test/plugins/bitbucket/fixtures/SOURCE.md). */
const publishedSecret = 'Gkvl$k$wyNpQAF42';
const secret = 'a webhook secret';
const key = keyOf(codec, { secret });
const now = new Date('2026-01-01T00:00:00Z');
const hmacHex = (data: Uint8Array | string, withSecret = secret) => createHmac('sha256', withSecret).update(data).digest('hex');
const info = { event: 'repo:push' };
const parse = (name: string) => codec.parse(fixture('bitbucket', name), info, key);

/** The message of the PayloadError `run` throws (answered 400); any other error fails the test. */
const payloadError = payloadErrorOf;

const cloudbeers = ['cloudbeers/temp', 'https://bitbucket.org/cloudbeers/temp'];
const amuniz = ['amuniz/test-repos', 'https://bitbucket.org/amuniz/test-repos'];

describe('bitbucket verify', () => {
  test('accepts the signature Bitbucket published with its test secret', () => {
    expect(codec.verify(fixture('bitbucket', 'push-signed'), keyOf(codec, { secret: publishedSecret }), now)).toEqual({ ok: true });
  });

  test('accepts a signature computed here with node:crypto', () => {
    const push = fixture('bitbucket', 'push', { 'X-Hub-Signature': `sha256=${hmacHex(fixture('bitbucket', 'push').body)}` });
    expect(codec.verify(push, key, now)).toEqual({ ok: true });
  });

  test('accepts what sign makes', () => {
    const push = fixture('bitbucket', 'push-multi-ref');
    const headers = codec.sign(push.body, { secret }, { now, deliveryId: 'd', options: {} });
    expect(headers).toEqual({ 'X-Hub-Signature': `sha256=${hmacHex(push.body)}` });
    for (const [name, value] of Object.entries(headers)) push.headers.set(name, value);
    expect(codec.verify(push, key, now)).toEqual({ ok: true });
  });

  test.each([
    ['no signature header', () => fixture('bitbucket', 'push'), secret, 'missing X-Hub-Signature header'],
    ['the published signature with another secret', () => fixture('bitbucket', 'push-signed'), secret, 'signature does not match'],
    ['a tampered body under the published signature', () => {
      const signed = fixture('bitbucket', 'push-signed');
      return withBody(signed, signed.text.replace('feature/webhook', 'feature/webhooK'));
    }, publishedSecret, 'signature does not match'],
    ['a SHA-1 signature', () => fixture('bitbucket', 'push', { 'X-Hub-Signature': `sha1=${createHmac('sha1', secret).update('x').digest('hex')}` }), secret, 'unsupported signature algorithm "sha1" in X-Hub-Signature'],
  ])('refuses %s', (_name, request, withSecret, reason) => {
    expect(codec.verify(request(), keyOf(codec, { secret: withSecret }), now)).toEqual({ ok: false, reason });
  });
});

describe('bitbucket describe', () => {
  test.each(['push', 'push-new-branch', 'push-tag', 'push-annotated-tag', 'push-delete-branch', 'push-delete-tag', 'push-multi-ref', 'push-signed'])('%s: event key and request UUID', (name) => {
    const request = fixture('bitbucket', name, { 'X-Request-UUID': 'a1b2c3d4-0000-4000-8000-000000000001' });
    expect(codec.describe(request.headers)).toEqual({ event: 'repo:push', deliveryId: 'a1b2c3d4-0000-4000-8000-000000000001' });
  });

  test('no headers: empty event, no delivery id', () => {
    expect(codec.describe(new Headers())).toEqual({ event: '', deliveryId: undefined });
  });
});

describe('bitbucket parse', () => {
  test('a branch update', () => {
    expect(parse('push')).toEqual({ events: [
      { event: 'repo:push', repositories: cloudbeers, ref: 'refs/heads/master', branch: 'master', commit: 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec' },
    ] });
  });

  test('a new branch', () => {
    expect(parse('push-new-branch')).toEqual({ events: [
      { event: 'repo:push', repositories: amuniz, ref: 'refs/heads/feature/test', branch: 'feature/test', commit: '174561d625c9623b60d8aba09b7f08ddc9df45cd' },
    ] });
  });

  test('a lightweight and an annotated tag: the commit either way', () => {
    expect(parse('push-tag')).toEqual({ events: [
      { event: 'repo:push', repositories: amuniz, ref: 'refs/tags/simple-tag', tag: 'simple-tag', commit: '7ef5981d59145c3ed300b1ab77b93907d33abe59' },
    ] });
    expect(parse('push-annotated-tag')).toEqual({ events: [
      { event: 'repo:push', repositories: amuniz, ref: 'refs/tags/test-tag', tag: 'test-tag', commit: '7ef5981d59145c3ed300b1ab77b93907d33abe59' },
    ] });
  });

  test('a deleted branch and a deleted tag (new is null)', () => {
    expect(parse('push-delete-branch')).toEqual({ events: [{ event: 'repo:push', repositories: amuniz, ref: 'refs/heads/feature/test', branch: 'feature/test', deleted: true }] });
    expect(parse('push-delete-tag')).toEqual({ events: [{ event: 'repo:push', repositories: amuniz, ref: 'refs/tags/test', tag: 'test', deleted: true }] });
  });

  test('three changes in one push are three events', () => {
    expect(parse('push-multi-ref')).toEqual({ events: [
      { event: 'repo:push', repositories: cloudbeers, ref: 'refs/heads/master', branch: 'master', commit: '325d37697849f4b1fe42cb19c20134af08e03a82' },
      { event: 'repo:push', repositories: cloudbeers, ref: 'refs/heads/manchu', branch: 'manchu', commit: 'e22fcb49645b4586a845938afac5eb3ac1950586' },
      { event: 'repo:push', repositories: cloudbeers, ref: 'refs/tags/v0.1', tag: 'v0.1', commit: '1986c228494671574242f99b62d1a00a4bfb69a5' },
    ] });
  });

  test('the signed delivery', () => {
    expect(parse('push-signed')).toEqual({ events: [
      {
        event: 'repo:push',
        repositories: ['nfalco79/test-repos', 'https://bitbucket.org/nfalco79/test-repos'],
        ref: 'refs/heads/feature/webhook',
        branch: 'feature/webhook',
        commit: 'd7f300a32270053bdfd97a6d64113f58202c33e7',
      },
    ] });
  });

  test('other event keys are ignored; a Data Center push is named as such', () => {
    expect(codec.parse(fixture('bitbucket', 'push'), { event: 'repo:updated' }, key)).toEqual({ ignored: 'only repo:push is about code' });
    expect(payloadError(() => codec.parse(fixture('bitbucket-server', 'push'), { event: 'repo:refs_changed' }, key))).toBe(
      'repo:refs_changed is a Bitbucket Data Center event: use the bitbucket-server type',
    );
  });
});

/** The real `push` delivery with one edit made through its JSON. */
const edited = (edit: (payload: any) => void) => withEditedJson(fixture('bitbucket', 'push'), edit);

describe('bitbucket malformed payloads name the field', () => {
  test.each<[string, (payload: any) => void, string]>([
    ['no repository', (p) => delete p.repository, 'repository is missing'],
    ['no full_name', (p) => delete p.repository.full_name, 'repository.full_name is missing'],
    ['no push', (p) => delete p.push, 'push is missing'],
    ['changes not a list', (p) => (p.push.changes = {}), 'push.changes is not an array'],
    ['new and old both null', (p) => (p.push.changes[0].new = p.push.changes[0].old = null), 'push.changes[0] has neither new nor old'],
    ['new not an object', (p) => (p.push.changes[0].new = 'main'), 'push.changes[0].new is not an object'],
    ['a Mercurial bookmark', (p) => (p.push.changes[0].new.type = 'bookmark'), 'push.changes[0].new.type is neither branch nor tag'],
    ['no target hash', (p) => delete p.push.changes[0].new.target.hash, 'push.changes[0].new.target.hash is missing'],
  ])('%s', (_name, edit, message) => {
    expect(payloadError(() => codec.parse(edited(edit), info, key))).toBe(message);
  });

  test('not JSON', () => {
    expect(payloadError(() => codec.parse(withBody(fixture('bitbucket', 'push'), '{"push":'), info, key))).toStartWith('payload is not valid JSON');
  });

  test('an empty change list is not about code', () => {
    expect(codec.parse(edited((p) => (p.push.changes = [])), info, key)).toEqual({ ignored: 'push lists no changes' });
  });
});

describe('bitbucket caps', () => {
  // No published push has this many changes: the real change is repeated.
  const repeated = (count: number) => edited((p) => (p.push.changes = Array.from({ length: count }, () => p.push.changes[0])));

  test(`${payloadLimits.events} changes are ${payloadLimits.events} events`, () => {
    expect(eventsOf(codec.parse(repeated(payloadLimits.events), info, key))).toHaveLength(payloadLimits.events);
  });

  test('one more is refused', () => {
    expect(payloadError(() => codec.parse(repeated(payloadLimits.events + 1), info, key))).toBe(`push.changes has more than ${payloadLimits.events} entries (the limit)`);
  });

  test('the type takes no options', () => {
    expect(codec.options).toBeUndefined();
  });
});

describe('bitbucket repositories match the URLs a GitRepository uses', () => {
  const [event] = eventsOf(parse('push'));
  test.each(['cloudbeers/temp', 'https://bitbucket.org/cloudbeers/temp.git', 'ssh://git@bitbucket.org/cloudbeers/temp.git', 'git@bitbucket.org:cloudbeers/temp.git', 'bitbucket.org/cloudbeers/*'])('%s', (pattern) => {
    expect(repositoryMatcher(pattern)(event!.repositories)).toBe(true);
  });

  test('not the same path on another host', () => {
    expect(repositoryMatcher('https://github.com/cloudbeers/temp')(event!.repositories)).toBe(false);
  });
});
