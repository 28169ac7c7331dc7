import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import gogs from '../../../plugins/gogs/codec.ts';
import { PayloadError, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { type ProviderSecrets } from '../../../src/config/secrets.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { codecOf, fixture, withBody } from '../../support/provider-fixtures.ts';

const codec = codecOf<ProviderSecrets>(gogs);
const SECRET = 'gogs webhook secret';
const NOW = new Date('2017-12-09T01:40:00Z');
const ZERO = '0000000000000000000000000000000000000000';
const DELIVERY = 'f6266f16-1bf3-46a5-9ea4-602e06ead473';
const hex = (data: string | Uint8Array, key = SECRET) => createHmac('sha256', key).update(data).digest('hex');
const HELLO_WORLD = ['gogits/hello-world', 'http://try.gogs.io/gogits/hello-world', 'http://try.gogs.io/gogits/hello-world.git', 'git@localhost:gogits/hello-world.git'];

/** A fixture with X-Gogs-Signature computed here with node:crypto, as Gogs computes it over the JSON. */
function signed(name: string): WebhookRequest & { text: string } {
  const request = fixture('gogs', name, { 'X-Gogs-Delivery': DELIVERY });
  request.headers.set('X-Gogs-Signature', hex(request.body));
  return request;
}

/** A fixture with an edited payload (the edit is the test's; the rest is the published delivery). */
function edited(name: string, edit: (payload: any) => void): WebhookRequest {
  const payload = JSON.parse(fixture('gogs', name).text);
  edit(payload);
  const request = withBody(signed(name), JSON.stringify(payload));
  request.headers.set('X-Gogs-Signature', hex(request.body));
  return request;
}

const parse = (request: WebhookRequest) => codec.parse(request, codec.describe(request.headers), { secret: SECRET });

describe('gogs verify', () => {
  test('accepts the bare hex HMAC-SHA256 of the body in X-Gogs-Signature', () => {
    for (const name of ['push', 'create-tag', 'delete-branch']) expect(codec.verify(signed(name), { secret: SECRET }, NOW)).toEqual({ ok: true });
  });

  test.each<[string, (request: WebhookRequest) => WebhookRequest, string]>([
    ['a missing signature', (r) => { r.headers.delete('X-Gogs-Signature'); return r; }, 'missing X-Gogs-Signature header'],
    ['a tampered body', (r) => withBody(r, new TextDecoder().decode(r.body).replace('refs/heads/develop', 'refs/heads/master')), 'signature does not match'],
    ['the empty header Gogs sends when the hook has no secret', (r) => { r.headers.set('X-Gogs-Signature', ''); return r; }, 'X-Gogs-Signature is empty: the webhook has no secret set on the Gogs side'],
    ['a GitHub-style prefixed value', (r) => { r.headers.set('X-Gogs-Signature', `sha256=${r.headers.get('X-Gogs-Signature')}`); return r; }, 'signature does not match'],
  ])('refuses %s', (_name, change, reason) => {
    expect(codec.verify(change(signed('push')), { secret: SECRET }, NOW)).toEqual({ ok: false, reason });
  });

  test('refuses another secret', () => {
    expect(codec.verify(signed('push'), { secret: 'not it' }, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('form-encoded hooks sign the JSON in payload=, not the form bytes', () => {
    const request = signed('push');
    const form = withBody(request, new URLSearchParams({ payload: request.text }).toString());
    form.headers.set('Content-Type', 'application/x-www-form-urlencoded');
    expect(codec.verify(form, { secret: SECRET }, NOW)).toEqual({ ok: true });
    expect(parse(form)).toEqual(parse(request));
    form.headers.set('X-Gogs-Signature', hex(form.body));
    expect(codec.verify(form, { secret: SECRET }, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('sign makes the header verify accepts', () => {
    const { body } = fixture('gogs', 'push');
    const headers = codec.sign(body, { secret: SECRET }, { now: NOW, deliveryId: DELIVERY, options: {} });
    expect(headers).toEqual({ 'X-Gogs-Signature': hex(body) });
    expect(codec.verify({ body, headers: new Headers(headers) }, { secret: SECRET }, NOW)).toEqual({ ok: true });
  });
});

describe('gogs describe', () => {
  test('an empty delivery header is no delivery id (else every such delivery would be a duplicate of the first)', () => {
    expect(codec.describe(new Headers({ 'X-Gogs-Event': 'push', 'X-Gogs-Delivery': '' }))).toEqual({ event: 'push', deliveryId: undefined });
  });

  test.each([
    ['push', 'push'],
    ['create-tag', 'create'],
    ['delete-branch', 'delete'],
  ])('%s', (name, event) => {
    expect(codec.describe(fixture('gogs', name, { 'X-Gogs-Delivery': DELIVERY }).headers)).toEqual({ event, deliveryId: DELIVERY });
  });

  test('tags only ever come as create events, so create is a default event', () => {
    expect(codec.defaultEvents).toEqual(['push', 'create']);
    expect(codec.options).toBeUndefined();
  });
});

describe('gogs parse: the published deliveries', () => {
  test('push (Gogs documentation, 2017): commits without file lists, paths unknown', () => {
    expect(parse(signed('push'))).toEqual({ events: [
      {
        event: 'push',
        repositories: ['unknwon/webhooks', 'http://localhost:3000/unknwon/webhooks', 'http://localhost:3000/unknwon/webhooks.git', 'ssh://unknwon@localhost:2222/unknwon/webhooks.git'],
        ref: 'refs/heads/develop',
        branch: 'develop',
        commit: 'bffeb74224043ba2feb48d137756c8a9331c449a',
        changedPaths: undefined,
      },
    ] });
  });

  test('a tag push is a create event; this copy names no commit (no sha field)', () => {
    expect(parse(signed('create-tag'))).toEqual({ events: [{ event: 'create', repositories: HELLO_WORLD, ref: 'refs/tags/v1.0.0', tag: 'v1.0.0' }] });
  });

  test('a branch deletion: deleted, never matches', () => {
    expect(parse(signed('delete-branch'))).toEqual({ events: [{ event: 'delete', repositories: HELLO_WORLD, ref: 'refs/heads/feature', branch: 'feature', deleted: true }] });
  });
});

describe('gogs parse: cases no published delivery shows, built from the fixtures', () => {
  // Gogs ≥ 0.11.x lists each commit's files; the documented example predates that, so they are added here.
  const withFiles = (p: any) => Object.assign(p.commits[0], { added: ['apps/web.yaml'], removed: [], modified: ['README.md'] });

  test('a push whose commits list their files: the changed paths', () => {
    expect(parse(edited('push', withFiles))).toMatchObject({ events: [{ changedPaths: ['apps/web.yaml', 'README.md'] }] });
  });

  test('5 commits (Gogs cuts the list at FEED_MAX_COMMIT_NUM, 5 by default, without a total): paths unknown', () => {
    const five = edited('push', (p) => {
      withFiles(p);
      p.commits = Array.from({ length: 5 }, () => p.commits[0]);
    });
    expect(parse(five)).toMatchObject({ events: [{ changedPaths: undefined }] });
  });

  test('the first push of a new branch (before all zeros): its commits are history, paths unknown', () => {
    const request = edited('push', (p) => {
      withFiles(p);
      p.before = ZERO;
    });
    expect(parse(request)).toMatchObject({ events: [{ changedPaths: undefined }] });
  });

  test('a create event with sha (as go-scm\'s testdata/ copy of the same delivery has it): the tagged commit', () => {
    const request = edited('create-tag', (p) => (p.sha = '599d25c67b05717269f50ac082b34f176d085179'));
    expect(parse(request)).toEqual({ events: [{ event: 'create', repositories: HELLO_WORLD, ref: 'refs/tags/v1.0.0', tag: 'v1.0.0', commit: '599d25c67b05717269f50ac082b34f176d085179' }] });
  });

  test('a branch created: ignored, its push delivery carries the change', () => {
    const branch = edited('create-tag', (p) => Object.assign(p, { ref: 'feature', ref_type: 'branch', sha: undefined }));
    expect(parse(branch)).toEqual({ ignored: 'branch created: its push delivery carries the change' });
  });

  test('a tag deletion: deleted', () => {
    const request = edited('delete-branch', (p) => Object.assign(p, { ref: 'v1.0.0', ref_type: 'tag' }));
    expect(parse(request)).toEqual({ events: [{ event: 'delete', repositories: HELLO_WORLD, ref: 'refs/tags/v1.0.0', tag: 'v1.0.0', deleted: true }] });
  });

  test('a push with after all zeros (a deletion spelled as a push): deleted', () => {
    expect(parse(edited('push', (p) => (p.after = ZERO)))).toMatchObject({ events: [{ ref: 'refs/heads/develop', deleted: true }] });
  });

  test('another event (e.g. release) is ignored, not refused', () => {
    const request = signed('push');
    request.headers.set('X-Gogs-Event', 'release');
    expect(parse(request)).toEqual({ ignored: 'release event is not about a ref' });
  });
});

describe('gogs parse: malformed payloads and caps', () => {
  test.each<[string, string, (payload: any) => void, string]>([
    ['no repository', 'push', (p) => delete p.repository, 'repository is missing'],
    ['ref missing', 'push', (p) => delete p.ref, 'ref is missing'],
    ['commits not a list', 'push', (p) => (p.commits = {}), 'commits is not an array'],
    ['a commit that is not an object', 'push', (p) => (p.commits = ['bffeb742']), 'commits[0] is not an object'],
    ['ref_type missing', 'create-tag', (p) => delete p.ref_type, 'ref_type is missing'],
    ['sha not a string', 'create-tag', (p) => (p.sha = 599), 'sha is not a string'],
  ])('%s (%s)', (_name, name, edit, message) => {
    expect(() => parse(edited(name, edit))).toThrow(new PayloadError(message));
  });

  test(`more than ${payloadLimits.commits} commits never make a 400: paths unknown`, () => {
    const long = edited('push', (p) => (p.commits = Array.from({ length: 10_000 }, () => p.commits[0])));
    expect(parse(long)).toMatchObject({ events: [{ changedPaths: undefined }] });
  });
});
