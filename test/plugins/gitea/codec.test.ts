import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import gitea from '../../../plugins/gitea/codec.ts';
import { PayloadError, type Parsed, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { type ProviderSecrets } from '../../../src/config/secrets.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { codecOf, fixture, withBody } from '../../support/provider-fixtures.ts';

const codec = codecOf<ProviderSecrets>(gitea);
const SECRET = 'gitea webhook secret';
const NOW = new Date('2024-02-22T00:00:00Z');
const ZERO = '0000000000000000000000000000000000000000';
const DELIVERY = '4b7d9a2e-3c1f-4e5a-9b8d-2f6e1a0c7d35';
const hex = (algorithm: 'sha1' | 'sha256', data: string | Uint8Array, key = SECRET) => createHmac(algorithm, key).update(data).digest('hex');

/** A published delivery of Gitea's or (in its own folder of the type's fixtures) Forgejo's. */
const sent = (sender: string, name: string, fill: Record<string, string>) => fixture('gitea', sender === 'forgejo' ? `forgejo/${name}` : name, fill);

/** A fixture signed the way Gitea signs it: the same HMAC in every signature header, computed here with node:crypto. */
function signed(provider: 'gitea' | 'forgejo', name: string, event?: string): WebhookRequest & { text: string } {
  const request = sent(provider, name, { 'X-Gitea-Delivery': DELIVERY, 'X-Forgejo-Delivery': DELIVERY });
  const digest = hex('sha256', request.body);
  for (const header of ['X-Gitea-Signature', 'X-Gogs-Signature', ...(provider === 'forgejo' ? ['X-Forgejo-Signature'] : [])]) request.headers.set(header, digest);
  request.headers.set('X-Hub-Signature-256', `sha256=${digest}`);
  request.headers.set('X-Hub-Signature', `sha1=${hex('sha1', request.body)}`);
  if (event) for (const header of ['X-Gitea-Event', 'X-Forgejo-Event']) if (request.headers.has(header)) request.headers.set(header, event);
  return request;
}

/** A fixture with an edited payload, signed again (the edit is the test's; the rest is the published delivery). */
function edited(name: string, edit: (payload: any) => void, event?: string): WebhookRequest {
  const payload = JSON.parse(fixture('gitea', name).text);
  edit(payload);
  const request = withBody(signed('gitea', name, event), JSON.stringify(payload));
  request.headers.set('X-Gitea-Signature', hex('sha256', request.body));
  return request;
}

const parse = (request: WebhookRequest) => codec.parse(request, codec.describe(request.headers), { secret: SECRET });

/** The same JSON as a form-encoded hook sends it: `payload=<url-encoded JSON>`, signed over the JSON. */
function formOf(request: WebhookRequest & { text: string }): WebhookRequest {
  const form = withBody(request, new URLSearchParams({ payload: request.text }).toString());
  form.headers.set('Content-Type', 'application/x-www-form-urlencoded');
  return form;
}

describe('gitea verify', () => {
  test('accepts the HMAC-SHA256 of the body in X-Gitea-Signature, as Gitea sends it', () => {
    expect(codec.verify(signed('gitea', 'push'), { secret: SECRET }, NOW)).toEqual({ ok: true });
  });

  test('Forgejo: X-Forgejo-Signature is checked first', () => {
    const request = signed('forgejo', 'push');
    expect(codec.verify(request, { secret: SECRET }, NOW)).toEqual({ ok: true });
    request.headers.set('X-Forgejo-Signature', hex('sha256', 'another body'));
    expect(codec.verify(request, { secret: SECRET }, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('X-Hub-Signature-256 alone is enough', () => {
    const request = signed('gitea', 'push');
    request.headers.delete('X-Gitea-Signature');
    expect(codec.verify(request, { secret: SECRET }, NOW)).toEqual({ ok: true });
  });

  test.each<[string, (request: WebhookRequest) => WebhookRequest, string]>([
    ['no signature header', (r) => { for (const h of ['X-Gitea-Signature', 'X-Hub-Signature-256']) r.headers.delete(h); return r; }, 'missing X-Gitea-Signature header (nor X-Forgejo-Signature or X-Hub-Signature-256)'],
    ['a tampered body', (r) => withBody(r, new TextDecoder().decode(r.body).replace('refs/heads/main', 'refs/heads/prod')), 'signature does not match'],
    ['the empty header Gitea sends when the hook has no secret', (r) => { r.headers.set('X-Gitea-Signature', ''); return r; }, 'X-Gitea-Signature is empty: the webhook has no secret set on the Gitea side'],
    ['a signature that is not hex', (r) => { r.headers.set('X-Gitea-Signature', 'sha256=nothex'); return r; }, 'signature does not match'],
  ])('refuses %s', (_name, change, reason) => {
    expect(codec.verify(change(signed('gitea', 'push')), { secret: SECRET }, NOW)).toEqual({ ok: false, reason });
  });

  test('refuses another secret, without naming either', () => {
    expect(codec.verify(signed('gitea', 'push'), { secret: 'another secret' }, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('form-encoded hooks: the signature covers the JSON in payload=, not the form bytes', () => {
    const form = formOf(signed('gitea', 'push'));
    expect(codec.verify(form, { secret: SECRET }, NOW)).toEqual({ ok: true });
    form.headers.set('X-Gitea-Signature', hex('sha256', form.body));
    expect(codec.verify(form, { secret: SECRET }, NOW)).toEqual({ ok: false, reason: 'signature does not match' });
    const empty = withBody(form, 'other=1');
    expect(codec.verify(empty, { secret: SECRET }, NOW)).toEqual({ ok: false, reason: 'form-encoded body has no payload field' });
  });

  test('sign makes the headers Gitea sends, which verify accepts', () => {
    const request = fixture('gitea', 'push');
    const headers = codec.sign(request.body, { secret: SECRET }, { now: NOW, deliveryId: DELIVERY, options: {} });
    expect(headers).toEqual({
      'X-Gitea-Signature': hex('sha256', request.body),
      'X-Gogs-Signature': hex('sha256', request.body),
      'X-Hub-Signature': `sha1=${hex('sha1', request.body)}`,
      'X-Hub-Signature-256': `sha256=${hex('sha256', request.body)}`,
    });
    expect(codec.verify({ body: request.body, headers: new Headers(headers) }, { secret: SECRET }, NOW)).toEqual({ ok: true });
  });
});

describe('gitea describe', () => {
  test('an empty delivery header is no delivery id (else every such delivery would be a duplicate of the first)', () => {
    expect(codec.describe(new Headers({ 'X-Gitea-Event': 'push', 'X-Gitea-Delivery': '' }))).toEqual({ event: 'push', deliveryId: undefined });
    expect(codec.describe(new Headers({ 'X-Forgejo-Event': 'push', 'X-Forgejo-Delivery': '', 'X-Gitea-Delivery': DELIVERY }))).toEqual({ event: 'push', deliveryId: DELIVERY });
  });

  test.each<[string, string, string]>([
    ['gitea', 'push', 'push'],
    ['gitea', 'push-new-branch', 'push'],
    ['gitea', 'push-first-branch', 'push'],
    ['gitea', 'delete-branch', 'delete'],
    ['forgejo', 'push', 'push'],
  ])('%s %s', (provider, name, event) => {
    expect(codec.describe(sent(provider, name, { 'X-Gitea-Delivery': DELIVERY, 'X-Forgejo-Delivery': DELIVERY }).headers)).toEqual({ event, deliveryId: DELIVERY });
  });

  test('Forgejo headers win over the Gitea ones it also sends', () => {
    const headers = fixture('gitea', 'forgejo/push', { 'X-Forgejo-Delivery': 'forgejo-id', 'X-Gitea-Delivery': 'gitea-id', 'X-Forgejo-Event': 'create' }).headers;
    expect(codec.describe(headers)).toEqual({ event: 'create', deliveryId: 'forgejo-id' });
  });
});

describe('gitea parse: the published deliveries', () => {
  const local = ['Test-CI/multi-line-secrets', 'http://127.0.0.1:3000/Test-CI/multi-line-secrets', 'http://127.0.0.1:3000/Test-CI/multi-line-secrets.git', 'ssh://git@127.0.0.1:2200/Test-CI/multi-line-secrets.git'];
  const example = ['example/example', 'http://localhost:3000/example/example', 'http://localhost:3000/example/example.git', 'git@localhost:example/example.git'];

  test('push of 3 commits (total_commits 3): branch, head commit, the union of their file lists', () => {
    expect(parse(signed('gitea', 'push'))).toEqual({ events: [
      { event: 'push', repositories: local, defaultBranch: 'main', ref: 'refs/heads/main', branch: 'main', commit: '29be01c073851cf0db0c6a466e396b725a670453', changedPaths: ['aaa', 'aa'] },
    ] });
  });

  test('the same push from a form-encoded hook', () => {
    expect(parse(formOf(signed('gitea', 'push')))).toEqual(parse(signed('gitea', 'push')));
  });

  test('a new branch from an existing commit (Codeberg): no commits listed, paths unknown', () => {
    expect(parse(signed('gitea', 'push-new-branch'))).toEqual({ events: [
      {
        event: 'push',
        repositories: ['meisam/woodpecktester', 'https://codeberg.org/meisam/woodpecktester', 'https://codeberg.org/meisam/woodpecktester.git', 'git@codeberg.org:meisam/woodpecktester.git'],
        defaultBranch: 'main',
        ref: 'refs/heads/fdsafdsa',
        branch: 'fdsafdsa',
        commit: '28c3613ae62640216bea5e7dc71aa65356e4298b',
        changedPaths: undefined,
      },
    ] });
  });

  test('the first push of a branch (before all zeros): its commits are history, so paths are unknown', () => {
    expect(parse(signed('gitea', 'push-first-branch'))).toEqual({ events: [
      { event: 'push', repositories: example, defaultBranch: 'master', ref: 'refs/heads/master', branch: 'master', commit: '67b56589a45103f891bdee7c0546e5d40bc02001', changedPaths: undefined },
    ] });
  });

  test('a branch deletion (delete event): deleted, never matches', () => {
    expect(parse(signed('gitea', 'delete-branch'))).toEqual({ events: [{ event: 'delete', repositories: example, defaultBranch: 'master', ref: 'refs/heads/example3', branch: 'example3', deleted: true }] });
  });

  test('Forgejo documentation push: commits without file lists, paths unknown', () => {
    expect(parse(signed('forgejo', 'push'))).toEqual({ events: [
      {
        event: 'push',
        repositories: ['forgejo/webhooks', 'http://localhost:3000/forgejo/webhooks', 'http://localhost:3000/forgejo/webhooks.git', 'ssh://forgejo@localhost:2222/forgejo/webhooks.git'],
        defaultBranch: 'master',
        ref: 'refs/heads/develop',
        branch: 'develop',
        commit: 'bffeb74224043ba2feb48d137756c8a9331c449a',
        changedPaths: undefined,
      },
    ] });
  });
});

describe('gitea parse: cases no published delivery shows, built from push.json / delete-branch.json', () => {
  test('a tag push (Gitea sends push for tags: before all zeros, no commits)', () => {
    const request = edited('push', (p) => Object.assign(p, { ref: 'refs/tags/v1.2.0', before: ZERO, commits: [], total_commits: 0 }));
    expect(parse(request)).toMatchObject({ events: [{ event: 'push', ref: 'refs/tags/v1.2.0', tag: 'v1.2.0', commit: '29be01c073851cf0db0c6a466e396b725a670453', changedPaths: undefined }] });
  });

  test('a ref deleted by a push (after all zeros): deleted, no commit', () => {
    const [event] = (parse(edited('push', (p) => Object.assign(p, { ref: 'refs/tags/v1.2.0', after: ZERO }))) as Parsed).events;
    expect(event).toEqual({ event: 'push', repositories: expect.any(Array), defaultBranch: 'main', ref: 'refs/tags/v1.2.0', tag: 'v1.2.0', deleted: true });
  });

  test('a truncated commit list (total_commits above the listed ones): paths unknown', () => {
    expect(parse(edited('push', (p) => (p.total_commits = 7)))).toMatchObject({ events: [{ changedPaths: undefined }] });
  });

  test('without total_commits (older Gitea), fewer than 5 commits are complete and 5 may be cut', () => {
    expect(parse(edited('push', (p) => delete p.total_commits))).toMatchObject({ events: [{ changedPaths: ['aaa', 'aa'] }] });
    const five = edited('push', (p) => {
      delete p.total_commits;
      p.commits = [...p.commits, p.commits[0], p.commits[0]];
    });
    expect(parse(five)).toMatchObject({ events: [{ changedPaths: undefined }] });
  });

  test('a create event names the ref and its commit', () => {
    const request = edited('delete-branch', (p) => Object.assign(p, { ref: 'v2.0.0', ref_type: 'tag', sha: '67b56589a45103f891bdee7c0546e5d40bc02001' }), 'create');
    expect(parse(request)).toMatchObject({ events: [{ event: 'create', ref: 'refs/tags/v2.0.0', tag: 'v2.0.0', commit: '67b56589a45103f891bdee7c0546e5d40bc02001' }] });
  });

  test('an event that is not about a ref is ignored (200), not refused', () => {
    expect(parse(signed('gitea', 'push', 'release'))).toEqual({ ignored: 'release event is not about a ref' });
  });
});

describe('gitea parse: malformed payloads name the field', () => {
  test.each<[string, string, (payload: any) => void, string]>([
    ['no repository', 'push', (p) => delete p.repository, 'repository is missing'],
    ['ref not a string', 'push', (p) => (p.ref = 42), 'ref is not a string'],
    ['after missing', 'push', (p) => delete p.after, 'after is missing'],
    ['a file list that is not a list', 'push', (p) => (p.commits[1].added = 'aa'), 'commits[1].added is not an array'],
    ['repository not an object', 'push', (p) => (p.repository = 'Test-CI/multi-line-secrets'), 'repository is not an object'],
    ['an unknown ref_type', 'delete', (p) => (p.ref_type = 'note'), 'ref_type is neither branch nor tag'],
  ])('%s (%s)', (_name, event, edit, message) => {
    const request = edited(event === 'delete' ? 'delete-branch' : 'push', edit, event);
    expect(() => parse(request)).toThrow(new PayloadError(message));
  });

  test('a body that is not JSON', () => {
    expect(() => parse(withBody(signed('gitea', 'push'), 'ref=refs/heads/main'))).toThrow(PayloadError);
  });
});

describe('gitea parse: caps', () => {
  const commit = (index: number, paths: string[]) => ({ id: String(index).padStart(40, '0'), added: paths, modified: [], removed: [] });

  test(`${payloadLimits.commits} commits are read, one more makes the paths unknown (never a 400)`, () => {
    const at = edited('push', (p) => Object.assign(p, { commits: Array.from({ length: payloadLimits.commits }, (_, i) => commit(i, [`f${i}`])), total_commits: payloadLimits.commits }));
    expect((parse(at) as Parsed).events[0]!.changedPaths).toHaveLength(payloadLimits.commits);
    const over = edited('push', (p) => Object.assign(p, { commits: Array.from({ length: payloadLimits.commits + 1 }, (_, i) => commit(i, [`f${i}`])), total_commits: payloadLimits.commits + 1 }));
    expect(parse(over)).toMatchObject({ events: [{ changedPaths: undefined }] });
  });

  test(`${payloadLimits.changedPaths} changed paths are read, one more makes them unknown`, () => {
    const paths = (n: number) => Array.from({ length: n }, (_, i) => `apps/${i}.yaml`);
    expect((parse(edited('push', (p) => Object.assign(p, { commits: [commit(0, paths(payloadLimits.changedPaths))], total_commits: 1 }))) as Parsed).events[0]!.changedPaths).toHaveLength(payloadLimits.changedPaths);
    expect(parse(edited('push', (p) => Object.assign(p, { commits: [commit(0, paths(payloadLimits.changedPaths + 1))], total_commits: 1 })))).toMatchObject({ events: [{ changedPaths: undefined }] });
  });

  test('takes no options', () => {
    expect(codec.options).toBeUndefined();
    expect(codec.defaultEvents).toEqual(['push']);
  });
});
