import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import github from '../../../plugins/github/codec.ts';
import { PayloadError, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { providerKit } from '../../../src/provider-kit/kit.ts';
import { drive } from '../../support/codec-adapter.ts';
import { fixture as fixture_ } from '../../support/provider-fixtures.ts';
import { deliveryBody, githubWebhook } from '../../support/webhooks.ts';

const plugin = drive(github);
const SECRET = 'It’s a Secret to Everybody';
const NOW = new Date('2025-11-04T09:00:00Z');
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DELIVERY = 'b1c2d3e4-0000-11f0-8000-0123456789ab';

/** A published example (octokit/webhooks), as text. */
function fixture(name: string): string {
  return decoder.decode(deliveryBody(`github/${name}`));
}

/** A published example, parsed, for tests that build an edge case from it. */
function payloadOf(name: string): Record<string, any> {
  return JSON.parse(fixture(name));
}

function request(body: string | Uint8Array, headers: Record<string, string>): WebhookRequest {
  return { body: typeof body === 'string' ? encoder.encode(body) : body, headers: new Headers(headers) };
}

function hmacHex(algorithm: 'sha1' | 'sha256', key: string, body: string | Uint8Array): string {
  return createHmac(algorithm, key).update(body).digest('hex');
}

function delivery(name: string, event = 'push', extra: Record<string, string> = {}): WebhookRequest {
  return request(fixture(name), { 'Content-Type': 'application/json', 'X-GitHub-Event': event, 'X-GitHub-Delivery': DELIVERY, ...extra });
}

function parse(req: WebhookRequest) {
  return plugin.parse(req, plugin.describe(req));
}

describe('github verify', () => {
  const body = fixture('push-new-branch.json');
  const sha256 = `sha256=${hmacHex('sha256', SECRET, body)}`;
  const sha1 = `sha1=${hmacHex('sha1', SECRET, body)}`;
  const cases: { name: string; headers: Record<string, string>; secret?: string; ok: boolean; reason?: RegExp }[] = [
    { name: 'valid sha256', headers: { 'X-Hub-Signature-256': sha256 }, ok: true },
    { name: 'valid sha256 with upper-case hex', headers: { 'X-Hub-Signature-256': `sha256=${hmacHex('sha256', SECRET, body).toUpperCase()}` }, ok: true },
    { name: 'both headers valid', headers: { 'X-Hub-Signature-256': sha256, 'X-Hub-Signature': sha1 }, ok: true },
    { name: 'sha1 fallback when the 256 header is absent', headers: { 'X-Hub-Signature': sha1 }, ok: true },
    { name: 'wrong secret', headers: { 'X-Hub-Signature-256': sha256 }, secret: 'not the secret', ok: false, reason: /^signature does not match$/ },
    { name: 'missing both headers', headers: {}, ok: false, reason: /missing X-Hub-Signature-256 header/ },
    { name: 'no fallback to a valid sha1 when sha256 is wrong', headers: { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}`, 'X-Hub-Signature': sha1 }, ok: false, reason: /does not match/ },
    { name: 'truncated digest', headers: { 'X-Hub-Signature-256': sha256.slice(0, -2) }, ok: false, reason: /does not match/ },
    { name: 'unsupported algorithm', headers: { 'X-Hub-Signature-256': `md5=${'a'.repeat(32)}` }, ok: false, reason: /unsupported signature algorithm "md5"/ },
    { name: 'sha1 digest in the 256 header', headers: { 'X-Hub-Signature-256': sha1 }, ok: false, reason: /unsupported signature algorithm "sha1"/ },
    { name: 'malformed header', headers: { 'X-Hub-Signature-256': hmacHex('sha256', SECRET, body) }, ok: false, reason: /malformed X-Hub-Signature-256/ },
    { name: 'unprintable algorithm is not echoed', headers: { 'X-Hub-Signature-256': '<script>alert(1)</script>=ab' }, ok: false, reason: /^unsupported signature algorithm in X-Hub-Signature-256$/ },
    { name: 'no secret configured', headers: { 'X-Hub-Signature-256': sha256 }, secret: '', ok: false, reason: /no secret configured/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const result = (await plugin.verifyAsync(request(body, c.headers), { secret: c.secret ?? SECRET }, NOW));
      expect(result.ok).toBe(c.ok);
      if (!result.ok) {
        expect(result.reason).toMatch(c.reason!);
        // Never echo the secret or the expected digest.
        expect(result.reason).not.toContain(SECRET);
        expect(result.reason).not.toContain(hmacHex('sha256', SECRET, body));
        expect(result.reason).not.toContain(hmacHex('sha1', SECRET, body));
      }
    });
  }

  test('a body changed by one byte does not verify', async () => {
    const tampered = body.replace('"refs/heads/master"', '"refs/heads/mastir"');
    expect((await plugin.verifyAsync(request(tampered, { 'X-Hub-Signature-256': sha256 }), { secret: SECRET }, NOW)).ok).toBe(false);
  });

  test('sign produces what GitHub sends and verifies round trip', async () => {
    const bytes = encoder.encode(body);
    const headers = plugin.sign(bytes, { secret: SECRET });
    expect(headers).toEqual({ 'X-Hub-Signature-256': sha256, 'X-Hub-Signature': sha1 });
    expect((await plugin.verifyAsync({ body: bytes, headers: new Headers(headers) }, { secret: SECRET }, NOW))).toEqual({ ok: true });
    expect((await plugin.verifyAsync({ body: bytes, headers: new Headers(headers) }, { secret: `${SECRET}!` }, NOW)).ok).toBe(false);
  });
});

describe('github describe', () => {
  test('event, delivery id and ping', () => {
    expect(plugin.describe(delivery('push-new-branch.json'))).toEqual({ event: 'push', deliveryId: DELIVERY, ping: false });
    expect(plugin.describe(delivery('ping.json', 'ping')).ping).toBe(true);
    const bare = plugin.describe(request('{}', {}));
    expect(bare.event).toBe('');
    expect(bare.deliveryId).toBeUndefined();
    expect(bare.ping).toBe(false);
  });
});

describe('github parse', () => {
  test('push of a new branch with its commit and file lists', () => {
    const event = parse(delivery('push-new-branch.json'));
    expect(event).toEqual({
      event: 'push',
      repositories: [
        'Codertocat/Hello-World',
        'https://github.com/Codertocat/Hello-World',
        'https://github.com/Codertocat/Hello-World.git',
        'git@github.com:Codertocat/Hello-World.git',
        'git://github.com/Codertocat/Hello-World.git',
      ],
      defaultBranch: 'master',
      ref: 'refs/heads/master',
      branch: 'master',
      commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      deleted: false,
      changedPaths: ['README.md'],
      // repository.pushed_at, the push's own time (head_commit.timestamp, 92 s earlier, is the commit's)
      pushedAt: 1557933657000,
    });
  });

  test('a pushed_at that is no epoch number is no push time, never a refused delivery', () => {
    const body = JSON.parse(new TextDecoder().decode(delivery('push-new-branch.json').body));
    for (const value of ['2019-05-15T15:20:57Z', null, -1, {}]) {
      body.repository.pushed_at = value;
      const event = parse({ ...delivery('push-new-branch.json'), body: new TextEncoder().encode(JSON.stringify(body)) });
      expect(event.pushedAt).toBeUndefined();
    }
  });

  test('tag deleted', () => {
    const event = parse(delivery('push-tag-deleted.json'));
    expect(event).toMatchObject({ ref: 'refs/tags/simple-tag', tag: 'simple-tag', deleted: true });
    expect(event.branch).toBeUndefined();
    expect(event.commit).toBeUndefined();
    expect(event.changedPaths).toBeUndefined();
  });

  test('annotated tag push: the commit is head_commit.id, not the tag object in `after`; head_commit files', () => {
    // What GitHub sends for a new annotated tag: no commit list, `after` is the tag object, head_commit the commit.
    const payload = payloadOf('push-new-branch.json');
    Object.assign(payload, { ref: 'refs/tags/v1.0.0', after: '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c', commits: [], base_ref: 'refs/heads/master' });
    const event = parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'push' }));
    expect(event).toMatchObject({ ref: 'refs/tags/v1.0.0', tag: 'v1.0.0', commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', changedPaths: ['README.md'] });
    expect(event.branch).toBeUndefined();
  });

  test('branch deleted: `deleted` or an all-zero `after`', () => {
    const payload = payloadOf('push-new-branch.json');
    Object.assign(payload, { before: payload.after, after: '0000000000000000000000000000000000000000', deleted: true, created: false, commits: [], head_commit: null });
    const event = parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'push' }));
    expect(event).toMatchObject({ branch: 'master', deleted: true });
    expect(event.commit).toBeUndefined();
    expect(event.changedPaths).toBeUndefined();
  });

  test('ping parses without a ref', () => {
    const event = parse(delivery('ping.json', 'ping'));
    expect(event.ref).toBeUndefined();
    expect(event.repositories).toContain('Octocoders/Hello-World');
  });

  test('ping from an organization hook (no repository) still parses', () => {
    const payload = payloadOf('ping.json');
    delete payload.repository;
    const event = parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'ping' }));
    expect(event.repositories).toEqual([]);
  });

  const withCommits = (count: number) => {
    const payload = payloadOf('push-new-branch.json');
    const template = payload.commits[0];
    payload.commits = Array.from({ length: count }, (_, index) => ({ ...template, id: index.toString(16).padStart(40, '0'), added: [`apps/file-${index}.yaml`], modified: [], removed: [] }));
    return request(JSON.stringify(payload), { 'X-GitHub-Event': 'push' });
  };

  test('a commit list of 20 is treated as truncated: changed paths unknown', () => {
    expect(parse(withCommits(20)).changedPaths).toBeUndefined();
    expect(parse(withCommits(35)).changedPaths).toBeUndefined();
  });

  test('19 commits still report their paths', () => {
    expect(parse(withCommits(19)).changedPaths).toHaveLength(19);
  });

  test('README states the cut as it is: N commits or more from GitHub, more than M from a host that does not cut', () => {
    const readme = readFileSync(join(import.meta.dir, '..', '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const github = Number(/a push listing (\d+) commits or more from GitHub/.exec(readme)?.[1]);
    const other = Number(/more than (\d+) from another host/.exec(readme)?.[1]);
    expect(parse(withCommits(github - 1)).changedPaths).toHaveLength(github - 1);
    expect(parse(withCommits(github)).changedPaths).toBeUndefined();
    const commits = (count: number) => Array.from({ length: count }, (_, index) => ({ added: [`apps/file-${index}.yaml`] }));
    expect(providerKit.changedPaths(commits(other), { label: 'commits', complete: true })).toHaveLength(other);
    expect(providerKit.changedPaths(commits(other + 1), { label: 'commits', complete: true })).toBeUndefined();
  });

  test('commits without file lists give unknown paths, not an empty set', () => {
    const payload = payloadOf('push-new-branch.json');
    for (const commit of payload.commits) {
      delete commit.added;
      delete commit.modified;
      delete commit.removed;
    }
    expect(parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'push' })).changedPaths).toBeUndefined();
  });

  test('form-encoded body: signature over the form bytes, payload decoded', async () => {
    const json = fixture('push-new-branch.json');
    const form = `payload=${encodeURIComponent(json)}`;
    const headers = {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-GitHub-Event': 'push',
      'X-Hub-Signature-256': `sha256=${hmacHex('sha256', SECRET, form)}`,
    };
    const req = request(form, headers);
    expect((await plugin.verifyAsync(req, { secret: SECRET }, NOW))).toEqual({ ok: true });
    // The signature of the JSON alone does not authenticate the form body.
    expect((await plugin.verifyAsync(request(form, { ...headers, 'X-Hub-Signature-256': `sha256=${hmacHex('sha256', SECRET, json)}` }), { secret: SECRET }, NOW)).ok).toBe(false);
    const event = parse(req);
    expect(event).toEqual(parse(request(json, { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push' })));
    expect(event.branch).toBe('master');
  });

  test('form body with "+" for spaces and no Content-Type is sniffed', () => {
    const form = 'payload=' + encodeURIComponent(JSON.stringify({ ref: 'refs/heads/main', after: 'abc', repository: { full_name: 'a/b' }, head_commit: { id: 'abc', message: 'two words', added: ['x y.yaml'] } })).replace(/%20/g, '+');
    const event = parse(request(form, { 'X-GitHub-Event': 'push' }));
    expect(event.changedPaths).toEqual(['x y.yaml']);
  });

  const bad: [string, string, RegExp][] = [
    ['malformed JSON', '{"ref": "refs/heads/main",', /not valid JSON/],
    ['JSON array', '[1,2]', /not a JSON object/],
    ['missing repository', '{"ref":"refs/heads/main","after":"abc"}', /no repository/],
    ['repository of the wrong type', '{"ref":"refs/heads/main","repository":"acme/fleet"}', /repository is not an object/],
    ['repository without names', '{"ref":"refs/heads/main","repository":{"id":1}}', /no full_name or URL/],
    ['ref of the wrong type', '{"ref":42,"repository":{"full_name":"a/b"}}', /ref is not a string/],
    ['push without ref', '{"repository":{"full_name":"a/b"}}', /ref is missing/],
    ['commits not an array', '{"ref":"refs/heads/main","repository":{"full_name":"a/b"},"commits":{}}', /commits is not an array/],
    ['non-string path', '{"ref":"refs/heads/main","repository":{"full_name":"a/b"},"commits":[{"added":[1]}]}', /non-string path/],
    ['deleted of the wrong type', '{"ref":"refs/heads/main","repository":{"full_name":"a/b"},"deleted":"yes"}', /deleted is not a boolean/],
  ];
  for (const [name, body, reason] of bad) {
    test(`PayloadError: ${name}`, () => {
      let caught: unknown;
      try {
        parse(request(body, { 'X-GitHub-Event': 'push', 'Content-Type': 'application/json' }));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PayloadError);
      expect((caught as Error).message).toMatch(reason);
    });
  }

  test('PayloadError: form body without a payload field', () => {
    expect(() => parse(request('foo=bar', { 'X-GitHub-Event': 'push', 'Content-Type': 'application/x-www-form-urlencoded' }))).toThrow(PayloadError);
  });

  test('create and delete events give full refs', () => {
    const repository = { full_name: 'acme-platform/fleet-infra' };
    const created = plugin.parse(request(JSON.stringify({ ref: 'v3.0.0', ref_type: 'tag', master_branch: 'main', repository }), {}), { event: 'create' });
    expect(created).toMatchObject({ ref: 'refs/tags/v3.0.0', tag: 'v3.0.0', repositories: ['acme-platform/fleet-infra'] });
    const deleted = plugin.parse(request(JSON.stringify({ ref: 'old', ref_type: 'branch', repository }), {}), { event: 'delete' });
    expect(deleted).toMatchObject({ ref: 'refs/heads/old', branch: 'old', deleted: true });
    const release = plugin.parse(request(JSON.stringify({ action: 'published', release: { tag_name: 'v3.0.0' }, repository }), {}), { event: 'release' });
    expect(release.tag).toBe('v3.0.0');
  });
});

describe('github: deliveries as test/support builds them', () => {
  test('a push with the repository and branch rewritten, signed independently, verifies and parses', async () => {
    const hook = githubWebhook(SECRET, { repository: 'acme/fleet', branch: 'main', deliveryId: 'redelivery-1' });
    const req = request(hook.body, hook.headers);
    expect((await plugin.verifyAsync(req, { secret: SECRET }, NOW))).toEqual({ ok: true });
    expect(parse(req)).toMatchObject({
      repositories: ['acme/fleet', 'https://github.com/acme/fleet', 'https://github.com/acme/fleet.git', 'git@github.com:acme/fleet.git', 'git://github.com/acme/fleet.git'],
      branch: 'main',
      commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    });
    expect(plugin.describe(req).deliveryId).toBe('redelivery-1');
  });

  test('a ping', async () => {
    const hook = githubWebhook(SECRET, { event: 'ping' });
    const req = request(hook.body, hook.headers);
    expect(plugin.describe(req).ping).toBe(true);
    expect((await plugin.verifyAsync(req, { secret: SECRET }, NOW)).ok).toBe(true);
  });
});

describe('github packages (GHCR container images)', () => {
  // GitHub's published examples: a container published to ghcr.io (`package`, and the older `registry_package`).
  test.each(['package-published', 'registry-package-published'])('%s: one image event with its digest', (name) => {
    const req = fixture_('github', `packages/${name}`);
    const event = parse(req);
    expect(event).toEqual({
      event: req.headers.get('x-github-event')!,
      repositories: [],
      image: { name: 'ghcr.io/Codertocat/hello-world', digest: 'sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b' },
      commit: 'sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b',
    });
  });

  test('a tag, when the version has one, is the event tag too (targets\' tags filters apply)', () => {
    const req = fixture_('github', 'packages/package-published');
    const payload = JSON.parse(req.text);
    payload.package.package_version.container_metadata.tag.name = 'v1.2.0';
    expect(parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'package' }))).toMatchObject({ image: { tag: 'v1.2.0' }, tag: 'v1.2.0' });
  });

  test('a package that is not a container, or an action other than a publish, is ignored', () => {
    const payload = JSON.parse(fixture_('github', 'packages/package-published').text);
    delete payload.package.package_version.container_metadata;
    expect(parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'package' }))).toMatchObject({ ignored: 'the package is not a container image' });
    const deleted = JSON.parse(fixture_('github', 'packages/package-published').text);
    deleted.action = 'deleted';
    expect(parse(request(JSON.stringify(deleted), { 'X-GitHub-Event': 'package' }))).toMatchObject({ ignored: 'package action "deleted" is not a publish' });
  });

  test('an action too long or odd to show is not quoted in the reason (a 1 MiB one would fill logs and the delivery log)', () => {
    const payload = JSON.parse(fixture_('github', 'packages/package-published').text);
    payload.action = 'x'.repeat(1024 * 1024);
    expect(parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'package' }))).toMatchObject({ ignored: 'package action is not a publish' });
  });

  test('a package_url of 128 Ki colons and a slash is read in one pass (the timeout only catches a blow-up)', () => {
    // Stripping the reference with `/[:@][^/]*$/` tried every colon up to the slash: about a minute for this URL.
    const payload = JSON.parse(fixture_('github', 'packages/package-published').text);
    payload.package.package_version.package_url = `ghcr.io/${':'.repeat(128 * 1024)}/app:1.0`;
    expect(parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'package' }))).toMatchObject({ image: { name: `ghcr.io/${':'.repeat(128 * 1024)}/app` } });
  }, 5_000);
});
