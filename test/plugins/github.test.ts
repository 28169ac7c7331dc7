import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import createGithubPlugin from '../../plugins/github.ts';
import { pluginHost } from '../../src/plugins/host.ts';
import { PayloadError, type WebhookRequest } from '../../src/plugins/plugin-api.ts';

const plugin = createGithubPlugin(pluginHost);
const SECRET = 'It’s a Secret to Everybody';
const NOW = new Date('2025-11-04T09:00:00Z');
const encoder = new TextEncoder();

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/github/${name}`, import.meta.url), 'utf8');
}

function request(body: string | Uint8Array, headers: Record<string, string>): WebhookRequest {
  return { body: typeof body === 'string' ? encoder.encode(body) : body, headers: new Headers(headers) };
}

function hmacHex(algorithm: 'sha1' | 'sha256', key: string, body: string | Uint8Array): string {
  return createHmac(algorithm, key).update(body).digest('hex');
}

function delivery(name: string, event = 'push', extra: Record<string, string> = {}): WebhookRequest {
  return request(fixture(name), { 'Content-Type': 'application/json', 'X-GitHub-Event': event, 'X-GitHub-Delivery': 'b1c2d3e4-0000-11f0-8000-0123456789ab', ...extra });
}

function parse(req: WebhookRequest) {
  return plugin.parse(req, plugin.describe(req));
}

describe('github verify', () => {
  const body = fixture('push-branch.json');
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
    test(c.name, () => {
      const result = plugin.verify(request(body, c.headers), { secret: c.secret ?? SECRET }, NOW);
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

  test('a body changed by one byte does not verify', () => {
    const tampered = body.replace('"refs/heads/main"', '"refs/heads/mair"');
    expect(plugin.verify(request(tampered, { 'X-Hub-Signature-256': sha256 }), { secret: SECRET }, NOW).ok).toBe(false);
  });

  test('sign produces what GitHub sends and verifies round trip', () => {
    const bytes = encoder.encode(body);
    const headers = plugin.sign(bytes, { secret: SECRET });
    expect(headers).toEqual({ 'X-Hub-Signature-256': sha256, 'X-Hub-Signature': sha1 });
    expect(plugin.verify({ body: bytes, headers: new Headers(headers) }, { secret: SECRET }, NOW)).toEqual({ ok: true });
    expect(plugin.verify({ body: bytes, headers: new Headers(headers) }, { secret: `${SECRET}!` }, NOW).ok).toBe(false);
  });
});

describe('github describe', () => {
  test('event, delivery id and ping', () => {
    expect(plugin.describe(delivery('push-branch.json'))).toEqual({ event: 'push', deliveryId: 'b1c2d3e4-0000-11f0-8000-0123456789ab', ping: false });
    expect(plugin.describe(delivery('ping.json', 'ping')).ping).toBe(true);
    const bare = plugin.describe(request('{}', {}));
    expect(bare.event).toBe('');
    expect(bare.deliveryId).toBeUndefined();
    expect(bare.ping).toBe(false);
  });
});

describe('github parse', () => {
  test('push to a branch with commits and file lists', () => {
    const event = parse(delivery('push-branch.json'));
    expect(event.event).toBe('push');
    expect(event.deliveryId).toBe('b1c2d3e4-0000-11f0-8000-0123456789ab');
    expect(event.repositories).toEqual([
      'acme-platform/fleet-infra',
      'https://github.com/acme-platform/fleet-infra',
      'https://github.com/acme-platform/fleet-infra.git',
      'git@github.com:acme-platform/fleet-infra.git',
      'git://github.com/acme-platform/fleet-infra.git',
    ]);
    expect(event.ref).toBe('refs/heads/main');
    expect(event.branch).toBe('main');
    expect(event.tag).toBeUndefined();
    expect(event.commit).toBe('d4c2b1a09f8e7d6c5b4a3928172635445362718a');
    expect(event.deleted).toBe(false);
    expect([...event.changedPaths!].sort()).toEqual([
      'apps/base/kustomization.yaml',
      'apps/base/redis/deployment.yaml',
      'apps/base/redis/service.yaml',
      'apps/staging/kustomization.yaml',
      'apps/staging/podinfo/kustomization.yaml',
      'apps/staging/podinfo/values.yaml',
      'infrastructure/controllers/ingress-nginx.yaml',
    ]);
  });

  test('annotated tag push: tag, the commit (not the tag object) and head_commit files', () => {
    const event = parse(delivery('push-tag.json'));
    expect(event.ref).toBe('refs/tags/v2025.11.1');
    expect(event.tag).toBe('v2025.11.1');
    expect(event.branch).toBeUndefined();
    expect(event.commit).toBe('5e4d3c2b1a0f9e8d7c6b5a49382716059483726a');
    expect(event.changedPaths).toEqual(['clusters/production/flux-system/gotk-sync.yaml', 'clusters/production/apps.yaml']);
  });

  test('branch delete', () => {
    const event = parse(delivery('push-delete.json'));
    expect(event.branch).toBe('feature/canary-podinfo');
    expect(event.deleted).toBe(true);
    expect(event.commit).toBeUndefined();
    expect(event.changedPaths).toBeUndefined();
  });

  test('ping parses without a ref', () => {
    const event = parse(delivery('ping.json', 'ping'));
    expect(event.ref).toBeUndefined();
    expect(event.repositories).toContain('acme-platform/fleet-infra');
  });

  test('ping from an organization hook (no repository) still parses', () => {
    const event = parse(request('{"zen":"Speak like a human.","hook_id":1,"organization":{"login":"acme"}}', { 'X-GitHub-Event': 'ping' }));
    expect(event.repositories).toEqual([]);
  });

  const withCommits = (count: number) => {
    const payload = JSON.parse(fixture('push-branch.json'));
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

  test('commits without file lists give unknown paths, not an empty set', () => {
    const payload = JSON.parse(fixture('push-branch.json'));
    for (const commit of payload.commits) {
      delete commit.added;
      delete commit.modified;
      delete commit.removed;
    }
    expect(parse(request(JSON.stringify(payload), { 'X-GitHub-Event': 'push' })).changedPaths).toBeUndefined();
  });

  test('form-encoded body: signature over the form bytes, payload decoded', () => {
    const json = fixture('push-branch.json');
    const form = `payload=${encodeURIComponent(json)}`;
    const headers = {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-GitHub-Event': 'push',
      'X-Hub-Signature-256': `sha256=${hmacHex('sha256', SECRET, form)}`,
    };
    const req = request(form, headers);
    expect(plugin.verify(req, { secret: SECRET }, NOW)).toEqual({ ok: true });
    // The signature of the JSON alone does not authenticate the form body.
    expect(plugin.verify(request(form, { ...headers, 'X-Hub-Signature-256': `sha256=${hmacHex('sha256', SECRET, json)}` }), { secret: SECRET }, NOW).ok).toBe(false);
    const event = parse(req);
    expect(event).toEqual(parse(request(json, { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push' })));
    expect(event.branch).toBe('main');
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
    ['push without ref', '{"repository":{"full_name":"a/b"}}', /no ref/],
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

describe('github sample', () => {
  test('push sample is realistic, about 7 KB, and parses back', () => {
    const sample = plugin.sample({ repository: 'acme-platform/fleet-infra', branch: 'staging', deliveryId: 'fixed-id' });
    expect(sample.body.length).toBeGreaterThan(5_000);
    expect(sample.body.length).toBeLessThan(10_000);
    expect(sample.headers['Content-Type']).toBe('application/json');
    expect(sample.headers['X-GitHub-Event']).toBe('push');
    expect(sample.headers['X-GitHub-Delivery']).toBe('fixed-id');
    expect(sample.headers['User-Agent']).toStartWith('GitHub-Hookshot/');
    const event = parse(request(sample.body, sample.headers));
    expect(event.branch).toBe('staging');
    expect(event.repositories).toEqual(expect.arrayContaining([
      'acme-platform/fleet-infra',
      'https://github.com/acme-platform/fleet-infra',
      'https://github.com/acme-platform/fleet-infra.git',
      'git@github.com:acme-platform/fleet-infra.git',
    ]));
    expect(event.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(event.changedPaths!.length).toBeGreaterThan(0);
  });

  test('random delivery ids are uuids', () => {
    expect(plugin.sample({}).headers['X-GitHub-Delivery']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('repository given as URL (GitHub Enterprise, scp-style) and changedPaths', () => {
    const paths = ['apps/web/a.yaml', 'apps/web/b.yaml', 'docs/readme.md', 'apps/api/c.yaml'];
    for (const repository of ['https://ghe.acme.example/platform/fleet.git', 'git@ghe.acme.example:platform/fleet.git', 'ssh://git@ghe.acme.example/platform/fleet']) {
      const sample = plugin.sample({ repository, changedPaths: paths });
      const event = parse(request(sample.body, sample.headers));
      expect(event.repositories).toEqual(expect.arrayContaining(['platform/fleet', 'https://ghe.acme.example/platform/fleet', 'https://ghe.acme.example/platform/fleet.git', 'git@ghe.acme.example:platform/fleet.git']));
      expect([...event.changedPaths!].sort()).toEqual([...paths].sort());
      expect(event.branch).toBe('main');
    }
  });

  test('tag sample', () => {
    const sample = plugin.sample({ tag: 'v1.4.0' });
    const event = parse(request(sample.body, sample.headers));
    expect(event).toMatchObject({ ref: 'refs/tags/v1.4.0', tag: 'v1.4.0', deleted: false });
  });

  test('ping sample', () => {
    const sample = plugin.sample({ event: 'ping', repository: 'acme/x' });
    const req = request(sample.body, sample.headers);
    expect(plugin.describe(req).ping).toBe(true);
    expect(JSON.parse(new TextDecoder().decode(sample.body)).hook.config.url).toBeString();
  });

  test('signed sample verifies with an independently computed signature', () => {
    const sample = plugin.sample({});
    const headers = plugin.sign(sample.body, { secret: SECRET });
    expect(headers['X-Hub-Signature-256']).toBe(`sha256=${hmacHex('sha256', SECRET, sample.body)}`);
    expect(plugin.verify(request(sample.body, { ...sample.headers, ...headers }), { secret: SECRET }, NOW).ok).toBe(true);
  });
});
