import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { PayloadError } from '../../../src/provider-kit/contract.ts';
import { type ProviderSecrets } from '../../../src/config/secrets.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { repositoryMatcher } from '../../../src/pipeline/repository-url.ts';
import bitbucketServer from '../../../plugins/bitbucket-server/codec.ts';
import { codecOf, eventsOf, fixture, keyOf, withBody, withEditedJson, payloadErrorOf } from '../../support/provider-fixtures.ts';

const codec = codecOf<ProviderSecrets>(bitbucketServer);
const secret = 'a Data Center webhook secret';
const key = keyOf(codec, { secret });
const now = new Date('2026-01-01T00:00:00Z');
const hmacHex = (data: Uint8Array | string, withSecret = secret) => createHmac('sha256', withSecret).update(data).digest('hex');
const info = { event: 'repo:refs_changed' };
/** The id of an annotated tag object, which is not a commit (made up: no published delivery has one). */
const TAG_OBJECT = 'a1'.repeat(20);
const parse = (name: string) => codec.parse(fixture('bitbucket-server', name), info, key);

/** The message of the PayloadError `run` throws (answered 400); any other error fails the test. */
const payloadError = payloadErrorOf;

/** A fixture signed the way Data Center signs it, computed here with node:crypto. */
function signed(name: string, withSecret = secret) {
  return fixture('bitbucket-server', name, { 'X-Hub-Signature': `sha256=${hmacHex(fixture('bitbucket-server', name).body, withSecret)}` });
}

// The http and ssh clone URLs, the web URL, then PROJECT/slug, as the payload gives them.
const local = [
  'http://localhost:7990/bitbucket/scm/amuniz/test-repos.git',
  'ssh://git@localhost:7999/amuniz/test-repos.git',
  'http://localhost:7990/bitbucket/projects/AMUNIZ/repos/test-repos/browse',
  'AMUNIZ/test-repos',
];

describe('bitbucket-server verify', () => {
  test('accepts a signature computed here with node:crypto', () => {
    expect(codec.verify(signed('push'), key, now)).toEqual({ ok: true });
  });

  test('accepts what sign makes', () => {
    const push = fixture('bitbucket-server', 'push-with-commits');
    const headers = codec.sign(push.body, { secret }, { now, deliveryId: 'd', options: {} });
    expect(headers).toEqual({ 'X-Hub-Signature': `sha256=${hmacHex(push.body)}` });
    for (const [name, value] of Object.entries(headers)) push.headers.set(name, value);
    expect(codec.verify(push, key, now)).toEqual({ ok: true });
  });

  test.each([
    ['no signature header', () => fixture('bitbucket-server', 'push'), 'missing X-Hub-Signature header'],
    ['a signature made with another secret', () => signed('push', 'another secret'), 'signature does not match'],
    ['a tampered body', () => {
      const push = signed('push-new-branch');
      return withBody(push, push.text.replace('refs/heads/feature/BB-1', 'refs/heads/feature/BB-2'));
    }, 'signature does not match'],
    ['bare hex without the algorithm', () => fixture('bitbucket-server', 'push', { 'X-Hub-Signature': hmacHex(fixture('bitbucket-server', 'push').body) }), 'malformed X-Hub-Signature header (expected sha256=<hex>)'],
  ])('refuses %s', (_name, request, reason) => {
    expect(codec.verify(request(), key, now)).toEqual({ ok: false, reason });
  });
});

describe('bitbucket-server describe', () => {
  test.each(['push', 'push-new-branch', 'push-tag', 'push-delete-branch', 'push-delete-tag', 'push-with-commits'])('%s: event key and request id', (name) => {
    const request = fixture('bitbucket-server', name, { 'X-Request-Id': '6f1e2d3c-0000-4000-8000-000000000002' });
    expect(codec.describe(request.headers)).toEqual({ event: 'repo:refs_changed', deliveryId: '6f1e2d3c-0000-4000-8000-000000000002', ping: false });
  });

  test('"Test connection" is a ping', () => {
    const headers = new Headers({ 'X-Event-Key': 'diagnostics:ping', 'X-Request-Id': 'r1' });
    expect(codec.describe(headers)).toEqual({ event: 'diagnostics:ping', deliveryId: 'r1', ping: true });
  });
});

describe('bitbucket-server parse', () => {
  test('a branch update', () => {
    expect(parse('push')).toEqual({ events: [
      {
        event: 'repo:refs_changed',
        repositories: ['ssh://git@localhost:7999/amuniz/test-repos.git', 'http://localhost:7990/scm/amuniz/test-repos.git', 'http://localhost:7990/projects/AMUNIZ/repos/test-repos/browse', 'AMUNIZ/test-repos'],
        ref: 'refs/heads/main',
        branch: 'main',
        commit: '9fdd7b96d3f5c276d0b9e0bf38c879eb112d889a',
      },
    ] });
  });

  test('a branch update from a 9.x server with commits (no file lists: paths unknown)', () => {
    expect(parse('push-with-commits')).toEqual({ events: [
      {
        event: 'repo:refs_changed',
        repositories: [
          'https://bitbucket.example.com/scm/dev/deployment-automation.git',
          'ssh://git@bitbucket.example.com:7999/dev/deployment-automation.git',
          'https://bitbucket.example.com/projects/DEV/repos/deployment-automation/browse',
          'DEV/deployment-automation',
        ],
        ref: 'refs/heads/renovate-all',
        branch: 'renovate-all',
        commit: '76797d54bca87db6d1e3e82ee40622c7908aa514',
      },
    ] });
  });

  test('a new branch', () => {
    expect(parse('push-new-branch')).toEqual({ events: [
      { event: 'repo:refs_changed', repositories: local, ref: 'refs/heads/feature/BB-1', branch: 'feature/BB-1', commit: 'fb522a6f08c7c7df337312e4e65ec1b57710672e' },
    ] });
  });

  test('a lightweight tag; an annotated tag gives its commit (toCommit), not the tag object (toHash)', () => {
    expect(parse('push-tag')).toEqual({ events: [
      { event: 'repo:refs_changed', repositories: local, ref: 'refs/tags/simple-tag', tag: 'simple-tag', commit: 'fb522a6f08c7c7df337312e4e65ec1b57710672e' },
    ] });
    expect(codec.parse(annotatedTag(), info, key)).toEqual({ events: [
      { event: 'repo:refs_changed', repositories: local, ref: 'refs/tags/annotated-tag', tag: 'annotated-tag', commit: 'fb522a6f08c7c7df337312e4e65ec1b57710672e' },
    ] });
  });

  test('a deleted branch and a deleted tag', () => {
    expect(parse('push-delete-branch')).toEqual({ events: [{ event: 'repo:refs_changed', repositories: local, ref: 'refs/heads/feature/BB-1', branch: 'feature/BB-1', deleted: true }] });
    expect(parse('push-delete-tag')).toEqual({ events: [{ event: 'repo:refs_changed', repositories: local, ref: 'refs/tags/simple-tag', tag: 'simple-tag', deleted: true }] });
  });

  test('several changes in one push are several events, each with its own toHash', () => {
    // No multi-ref delivery is published: the changes of three deliveries of the same repository (two real, one
    // the annotated tag built above) are put together in the first one's `changes`.
    const changes = [fixture('bitbucket-server', 'push-new-branch'), annotatedTag(), fixture('bitbucket-server', 'push-delete-tag')].map((request) => JSON.parse(new TextDecoder().decode(request.body)).changes[0]);
    const request = edited('push-new-branch', (p) => (p.changes = changes));
    expect(codec.parse(request, info, key)).toEqual({ events: [
      { event: 'repo:refs_changed', repositories: local, ref: 'refs/heads/feature/BB-1', branch: 'feature/BB-1', commit: 'fb522a6f08c7c7df337312e4e65ec1b57710672e' },
      // With several changes, toCommit cannot be told apart: the annotated tag's own toHash is reported.
      { event: 'repo:refs_changed', repositories: local, ref: 'refs/tags/annotated-tag', tag: 'annotated-tag', commit: TAG_OBJECT },
      { event: 'repo:refs_changed', repositories: local, ref: 'refs/tags/simple-tag', tag: 'simple-tag', deleted: true },
    ] });
  });

  test('other event keys are ignored', () => {
    expect(codec.parse(fixture('bitbucket-server', 'push'), { event: 'pr:merged' }, key)).toEqual({ ignored: 'only repo:refs_changed is about code' });
  });
});

/**
 * An annotated tag pushed: no such delivery is published (see SOURCE.md), so it is built from the real lightweight
 * tag push by the smallest edit — `toHash` becomes a tag object's id (made up here) while `toCommit` keeps the
 * commit, and the tag is renamed so that it differs from the deleted tag it is combined with below.
 */
function annotatedTag() {
  return edited('push-tag', (p) => {
    p.changes[0].toHash = TAG_OBJECT;
    p.changes[0].ref.id = p.changes[0].refId = 'refs/tags/annotated-tag';
    p.changes[0].ref.displayId = 'annotated-tag';
  });
}

/** A real delivery with one edit made through its JSON. */
const edited = (name: string, edit: (payload: any) => void) => withEditedJson(fixture('bitbucket-server', name), edit);

describe('bitbucket-server malformed payloads name the field', () => {
  test.each<[string, (payload: any) => void, string]>([
    ['no repository', (p) => delete p.repository, 'repository is missing'],
    ['no slug', (p) => delete p.repository.slug, 'repository.slug is missing'],
    ['no project key', (p) => delete p.repository.project.key, 'repository.project.key is missing'],
    ['clone links not a list', (p) => (p.repository.links.clone = { href: 'x' }), 'repository.links.clone is not an array'],
    ['a clone href not a string', (p) => (p.repository.links.clone[1].href = 7), 'repository.links.clone[1].href is not a string'],
    ['changes not a list', (p) => (p.changes = 'refs/heads/main'), 'changes is not an array'],
    ['no ref', (p) => delete p.changes[0].ref, 'changes[0].ref is missing'],
    ['no ref id', (p) => delete p.changes[0].ref.id, 'changes[0].ref.id is missing'],
    ['no type', (p) => delete p.changes[0].type, 'changes[0].type is missing'],
    ['no toHash', (p) => delete p.changes[0].toHash, 'changes[0].toHash is missing'],
  ])('%s', (_name, edit, message) => {
    expect(payloadError(() => codec.parse(edited('push', edit), info, key))).toBe(message);
  });

  test('not JSON', () => {
    expect(payloadError(() => codec.parse(withBody(fixture('bitbucket-server', 'push'), 'changes=1'), info, key))).toStartWith('payload is not valid JSON');
  });

  test('an empty change list is not about code', () => {
    expect(codec.parse(edited('push', (p) => (p.changes = [])), info, key)).toEqual({ ignored: 'push lists no changes' });
  });
});

describe('bitbucket-server caps', () => {
  // No published push has this many changes or links: the real ones are repeated (links made distinct).
  const changes = (count: number) => edited('push', (p) => (p.changes = Array.from({ length: count }, () => p.changes[0])));

  test(`${payloadLimits.events} changes are ${payloadLimits.events} events`, () => {
    expect(eventsOf(codec.parse(changes(payloadLimits.events), info, key))).toHaveLength(payloadLimits.events);
  });

  test('one more is refused', () => {
    expect(payloadError(() => codec.parse(changes(payloadLimits.events + 1), info, key))).toBe(`changes has more than ${payloadLimits.events} entries (the limit)`);
  });

  test('more clone links than the repository cap are refused', () => {
    const request = edited('push', (p) => (p.repository.links.clone = Array.from({ length: payloadLimits.repositories + 1 }, () => p.repository.links.clone[0])));
    expect(payloadError(() => codec.parse(request, info, key))).toBe(`repository.links.clone has more than ${payloadLimits.repositories} entries (the limit)`);
  });

  test('more distinct spellings than the cap are refused', () => {
    const request = edited('push', (p) => {
      const link = (index: number) => ({ name: 'http', href: `http://localhost:7990/scm/amuniz/test-repos-${index}.git` });
      p.repository.links.clone = Array.from({ length: payloadLimits.repositories }, (_, index) => link(index));
    });
    expect(payloadError(() => codec.parse(request, info, key))).toBe(`repository names more than ${payloadLimits.repositories} repositories (the limit)`);
  });

  test('the type takes no options', () => {
    expect(codec.options).toBeUndefined();
  });
});

describe('bitbucket-server repositories match the URLs a GitRepository uses', () => {
  const [event] = eventsOf(parse('push-with-commits'));
  test.each([
    'https://bitbucket.example.com/scm/dev/deployment-automation.git',
    'ssh://git@bitbucket.example.com:7999/dev/deployment-automation.git',
    'https://bitbucket.example.com/projects/DEV/repos/deployment-automation/browse',
    'dev/deployment-automation',
    'bitbucket.example.com/dev/*',
  ])('%s', (pattern) => {
    expect(repositoryMatcher(pattern)(event!.repositories)).toBe(true);
  });

  test('not another project', () => {
    expect(repositoryMatcher('ssh://git@bitbucket.example.com:7999/ops/deployment-automation.git')(event!.repositories)).toBe(false);
  });
});
