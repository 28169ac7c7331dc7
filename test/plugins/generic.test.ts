import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import generic from '../../plugins/generic.ts';
import genericHmac from '../../plugins/generic-hmac.ts';
import { builtinProviders } from '../../plugins/index.ts';
import { PayloadError, type WebhookRequest } from '../../src/provider-kit/contract.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { drive } from '../support/codec-adapter.ts';

const hmacPlugin = Object.assign(drive(genericHmac), { id: 'generic-hmac' });
const unsignedPlugin = Object.assign(drive(generic), { id: 'generic' });
const SECRET = 'ci-shared-secret';
const NOW = new Date('2025-11-04T12:00:00Z');
const encoder = new TextEncoder();

function request(body: string | Uint8Array, headers: Record<string, string> = {}): WebhookRequest {
  return { body: typeof body === 'string' ? encoder.encode(body) : body, headers: new Headers(headers) };
}

describe('generic-hmac verify', () => {
  const body = JSON.stringify({ repository: 'acme/fleet', branch: 'main', commit: 'abc123' });
  const hex = (algorithm: string, key = SECRET) => createHmac(algorithm, key).update(body).digest('hex');
  const cases: { name: string; header?: string; secret?: string; ok: boolean; reason?: RegExp }[] = [
    { name: 'sha256', header: `sha256=${hex('sha256')}`, ok: true },
    { name: 'sha1', header: `sha1=${hex('sha1')}`, ok: true },
    { name: 'sha512', header: `sha512=${hex('sha512')}`, ok: true },
    { name: 'upper-case algorithm and hex', header: `SHA256=${hex('sha256').toUpperCase()}`, ok: true },
    { name: 'sha512 label on a sha256 digest', header: `sha512=${hex('sha256')}`, ok: false, reason: /^signature does not match$/ },
    { name: 'wrong secret', header: `sha256=${hex('sha256', 'other')}`, ok: false, reason: /^signature does not match$/ },
    { name: 'md5 is unsupported', header: `md5=${hex('md5')}`, ok: false, reason: /^unsupported signature algorithm "md5" in X-Signature$/ },
    { name: 'missing header', ok: false, reason: /^missing X-Signature header$/ },
    { name: 'bare hex without algorithm', header: hex('sha256'), ok: false, reason: /malformed X-Signature/ },
    { name: 'no secret configured', header: `sha256=${hex('sha256')}`, secret: '', ok: false, reason: /no secret configured/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = hmacPlugin.verify(request(body, c.header === undefined ? {} : { 'X-Signature': c.header }), { secret: c.secret ?? SECRET }, NOW);
      expect(result.ok).toBe(c.ok);
      if (!result.ok) {
        expect(result.reason).toMatch(c.reason!);
        expect(result.reason).not.toContain(SECRET);
        expect(result.reason).not.toContain(hex('sha256'));
      }
    });
  }

  test('sign uses sha256 and round-trips', () => {
    const bytes = encoder.encode(body);
    const headers = hmacPlugin.sign(bytes, { secret: SECRET });
    expect(headers).toEqual({ 'X-Signature': `sha256=${hex('sha256')}` });
    expect(hmacPlugin.verify({ body: bytes, headers: new Headers(headers) }, { secret: SECRET }, NOW).ok).toBe(true);
    expect(hmacPlugin.verify({ body: bytes, headers: new Headers(headers) }, { secret: 'nope' }, NOW).ok).toBe(false);
  });
});

describe('generic (unsigned)', () => {
  test('reads no secret (so a provider of it needs allowUnsigned), accepts anything, signs nothing', () => {
    expect(generic(providerKit).secretFields).toEqual([]);
    expect(generic(providerKit).keyless).toBeFalsy();
    expect(unsignedPlugin.verify(request('{}'), {}, NOW)).toEqual({ ok: true });
    expect(unsignedPlugin.sign(encoder.encode('{}'), { secret: 'ignored' })).toEqual({});
  });
  test('generic-hmac reads a secret', () => {
    expect(genericHmac(providerKit).secretFields).toEqual(['secret']);
  });
});

for (const plugin of [hmacPlugin, unsignedPlugin]) {
  const parse = (body: unknown, headers: Record<string, string> = {}) => {
    const req = request(typeof body === 'string' ? body : JSON.stringify(body), headers);
    return plugin.parse(req, plugin.describe(req));
  };

  describe(`${plugin.id} describe`, () => {
    test('X-Event or push; X-Delivery, else X-Request-Id', () => {
      expect(plugin.describe(request('{}'))).toEqual({ event: 'push', deliveryId: undefined });
      expect(plugin.describe(request('{}', { 'X-Event': 'release', 'X-Request-Id': 'req-9' }))).toMatchObject({ event: 'release', deliveryId: 'req-9' });
      expect(plugin.describe(request('{}', { 'X-Delivery': 'd-1', 'X-Request-Id': 'req-9' })).deliveryId).toBe('d-1');
    });
  });

  describe(`${plugin.id} parse`, () => {
    const good: { name: string; body: unknown; expected: Record<string, unknown> }[] = [
      { name: 'slug and branch', body: { repository: 'acme/fleet', branch: 'main' }, expected: { repositories: ['acme/fleet'], ref: 'refs/heads/main', branch: 'main' } },
      { name: 'URL and full branch ref', body: { repository: 'https://git.acme.example/acme/fleet.git', ref: 'refs/heads/release/1.x', commit: 'c0ffee' }, expected: { repositories: ['https://git.acme.example/acme/fleet.git'], branch: 'release/1.x', commit: 'c0ffee' } },
      { name: 'tag ref', body: { repository: 'acme/fleet', ref: 'refs/tags/v1.2.0' }, expected: { tag: 'v1.2.0', ref: 'refs/tags/v1.2.0' } },
      { name: 'tag field', body: { repository: 'acme/fleet', tag: 'v1.2.0' }, expected: { tag: 'v1.2.0', ref: 'refs/tags/v1.2.0' } },
      { name: 'ref and agreeing branch', body: { repository: 'acme/fleet', ref: 'refs/heads/main', branch: 'main' }, expected: { branch: 'main' } },
      { name: 'other refs keep only ref', body: { repository: 'acme/fleet', ref: 'refs/pull/7/head' }, expected: { ref: 'refs/pull/7/head', branch: undefined, tag: undefined } },
      { name: 'repository list', body: { repository: ['acme/fleet', 'git@git.acme.example:acme/fleet.git'] }, expected: { repositories: ['acme/fleet', 'git@git.acme.example:acme/fleet.git'], ref: undefined } },
      { name: 'paths', body: { repository: 'acme/fleet', branch: 'main', paths: ['apps/a.yaml', 'apps/b.yaml'] }, expected: { changedPaths: ['apps/a.yaml', 'apps/b.yaml'] } },
      { name: 'no paths = unknown', body: { repository: 'acme/fleet', branch: 'main' }, expected: { changedPaths: undefined } },
      { name: 'empty paths = nothing changed', body: { repository: 'acme/fleet', branch: 'main', paths: [] }, expected: { changedPaths: [] } },
      { name: 'deleted', body: { repository: 'acme/fleet', branch: 'old', deleted: true, commit: 'abc' }, expected: { deleted: true, commit: undefined, changedPaths: undefined } },
      {
        name: 'GitHub-like payload',
        body: {
          ref: 'refs/heads/main',
          after: '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c',
          repository: { full_name: 'acme/fleet', html_url: 'https://github.com/acme/fleet', clone_url: 'https://github.com/acme/fleet.git', id: 3 },
          commits: [{ added: ['a'], modified: ['b'], removed: [] }, { added: [], modified: ['b', 'c'], removed: ['d'] }],
        },
        expected: { repositories: ['acme/fleet', 'https://github.com/acme/fleet', 'https://github.com/acme/fleet.git'], branch: 'main', commit: '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c', changedPaths: ['a', 'b', 'c', 'd'] },
      },
      {
        name: 'GitHub-like payload with 20 commits: paths unknown',
        body: { ref: 'refs/heads/main', repository: { full_name: 'acme/fleet' }, commits: Array.from({ length: 20 }, (_, index) => ({ added: [`f${index}`] })) },
        expected: { changedPaths: undefined },
      },
      { name: 'GitHub-like deletion', body: { ref: 'refs/heads/x', after: '0000000000000000000000000000000000000000', repository: { full_name: 'acme/fleet' } }, expected: { deleted: true, commit: undefined } },
    ];
    for (const c of good) {
      test(c.name, () => {
        const event = parse(c.body, { 'X-Delivery': 'd-7' });
        expect(event.event).toBe('push');
        for (const [key, value] of Object.entries(c.expected)) expect(event[key as keyof typeof event]).toEqual(value as never);
      });
    }

    const bad: [string, unknown, RegExp][] = [
      ['malformed JSON', '{"repository": "acme/fleet"', /not valid JSON/],
      ['array body', '[]', /not a JSON object/],
      ['missing repository', { branch: 'main' }, /no repository/],
      ['empty repository', { repository: '' }, /repository is empty/],
      ['repository number', { repository: 42 }, /repository is not a string, array or object/],
      ['repository list with a number', { repository: ['a/b', 3] }, /non-string/],
      ['bare ref', { repository: 'a/b', ref: 'main' }, /full ref/],
      ['branch and tag', { repository: 'a/b', branch: 'main', tag: 'v1' }, /branch or tag, not both/],
      ['branch disagrees with ref', { repository: 'a/b', ref: 'refs/heads/main', branch: 'dev' }, /disagree/],
      ['paths not an array', { repository: 'a/b', paths: 'apps/**' }, /paths is not an array/],
      ['path not a string', { repository: 'a/b', paths: ['a', null] }, /non-string/],
      ['commit not a string', { repository: 'a/b', commit: 123 }, /commit is not a string/],
      ['deleted not a boolean', { repository: 'a/b', deleted: 'yes' }, /deleted is not a boolean/],
    ];
    for (const [name, body, reason] of bad) {
      test(`PayloadError: ${name}`, () => {
        let caught: unknown;
        try {
          parse(body);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(PayloadError);
        expect((caught as Error).message).toMatch(reason);
      });
    }
  });

}

test('generic-hmac sign matches an independent HMAC', () => {
  const body = encoder.encode('{"repository":"acme/fleet","ref":"refs/heads/main"}');
  const expected = createHmac('sha256', SECRET).update(body).digest('hex');
  expect(hmacPlugin.sign(body, { secret: SECRET })).toEqual({ 'X-Signature': `sha256=${expected}` });
});

describe('built-in providers', () => {
  test('index lists each provider once, with the types users configure', () => {
    const ids = builtinProviders.map((factory) => factory(providerKit).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['github', 'gitlab', 'generic-hmac', 'generic']));
  });

  test('provider files import only types (runtime providers cannot import anything)', () => {
    const dir = new URL('../../plugins/', import.meta.url);
    const files = readdirSync(dir).filter((name) => name.endsWith('.ts') && name !== 'index.ts');
    expect(files).toEqual(expect.arrayContaining(['github.ts', 'gitlab.ts', 'generic.ts', 'generic-hmac.ts']));
    for (const name of files) {
      const source = readFileSync(new URL(name, dir), 'utf8');
      for (const line of source.split('\n').filter((text) => /^\s*import\s/.test(text))) {
        expect(line).toMatch(/^import type .* from '\.\.\/src\/(pipeline\/provider|provider-kit\/index)\.ts';$/);
      }
      expect(source).not.toMatch(/\brequire\(|\bimport\(/);
    }
  });
});
