/**
 * The worked example of docs/writing-a-provider.md, tested the way a provider is: verify against signatures made
 * independently with node:crypto, describe from the headers, parse of each kind of delivery, malformed payloads
 * naming the field. Acme Git is made up, so its deliveries are written here (a real host's come from
 * test/plugins/<type>/fixtures/, with their SOURCE.md). Also checks that the page shows this very file.
 */
import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { loadCatalog } from '../../src/provider-kit/catalog.ts';
import { PayloadError, type Parsed, type WebhookRequest } from '../../src/provider-kit/contract.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { codecOf, keyOf } from '../../test/support/provider-fixtures.ts';
import acme from './acme.ts';

const codec = codecOf(acme);
const SECRET = 'acme-webhook-secret-5f1e';
const NOW = new Date('2030-01-02T03:04:05Z');
const COMMIT = '9c5e1f0a7b3d2c4e6f8a0b1c3d5e7f9a2b4c6d8e';
const push = {
  repository: { full_name: 'acme-org/web', clone_url: 'https://git.acme.example/acme-org/web.git' },
  ref: 'refs/heads/main',
  after: COMMIT,
  commits: [
    { added: ['apps/web/deploy.yaml'], modified: [], removed: [] },
    { added: [], modified: ['apps/web/deploy.yaml', 'README.md'], removed: [] },
  ],
};

/** A delivery as Acme would send it: the body, its event and delivery id, signed here with node:crypto. */
function delivery(payload: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const body = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return { body, headers: new Headers({ 'X-Acme-Event': 'push', 'X-Acme-Delivery': 'd-42', 'X-Acme-Signature': signature, ...headers }) };
}

function parse(request: WebhookRequest) {
  return codec.parse(request, codec.describe(request.headers), keyOf(codec, { secret: SECRET }));
}

describe('acme verify', () => {
  const verify = (request: WebhookRequest, secret = SECRET) => codec.verify(request, keyOf(codec, { secret }), NOW);

  test('accepts the signature Acme computes, and the one sign makes', () => {
    const request = delivery(push);
    expect(verify(request)).toEqual({ ok: true });
    const signed = codec.sign(request.body, { secret: SECRET }, { now: NOW, deliveryId: 'd-42', options: undefined });
    expect(signed).toEqual({ 'X-Acme-Signature': request.headers.get('x-acme-signature')! });
  });

  test.each([
    ['a missing signature', (r: WebhookRequest) => r.headers.delete('x-acme-signature'), 'missing X-Acme-Signature header'],
    ['another algorithm', (r: WebhookRequest) => r.headers.set('x-acme-signature', 'sha1=00'), 'unsupported signature algorithm "sha1" in X-Acme-Signature'],
    ['a tampered body', (r: WebhookRequest) => (r.body = new TextEncoder().encode(JSON.stringify({ ...push, ref: 'refs/heads/prod' }))), 'signature does not match'],
  ])('refuses %s', (_name, spoil, reason) => {
    const request = delivery(push);
    spoil(request);
    expect(verify(request)).toEqual({ ok: false, reason });
  });

  test('refuses a signature made with another secret', () => {
    expect(verify(delivery(push), 'not-the-secret')).toEqual({ ok: false, reason: 'signature does not match' });
  });
});

describe('acme describe and parse', () => {
  test('the headers name the event and the delivery', () => {
    expect(codec.describe(delivery(push).headers)).toEqual({ event: 'push', deliveryId: 'd-42' });
  });

  test('a branch push: every repository spelling, the branch, the commit and the changed paths', () => {
    expect(parse(delivery(push))).toEqual({
      events: [
        {
          event: 'push',
          repositories: ['acme-org/web', 'https://git.acme.example/acme-org/web.git'],
          ref: 'refs/heads/main',
          branch: 'main',
          commit: COMMIT,
          changedPaths: ['apps/web/deploy.yaml', 'README.md'],
        },
      ],
    });
  });

  test('a tag push names the tag', () => {
    expect((parse(delivery({ ...push, ref: 'refs/tags/v1.4.0' })) as Parsed).events[0]).toMatchObject({ ref: 'refs/tags/v1.4.0', tag: 'v1.4.0' });
  });

  test('a deleted ref (after all zeros) is a deletion', () => {
    expect((parse(delivery({ ...push, after: providerKit.ZERO_SHA })) as Parsed).events[0]).toMatchObject({ branch: 'main', deleted: true });
  });

  test('more commits than the kit reads: the changed paths are unknown', () => {
    const commits = Array.from({ length: providerKit.limits.commits + 1 }, () => ({ added: ['a.yaml'] }));
    expect((parse(delivery({ ...push, commits })) as Parsed).events[0]!.changedPaths).toBeUndefined();
  });

  test('another event is answered 200 with the reason', () => {
    expect(parse(delivery(push, { 'X-Acme-Event': 'issue' }))).toEqual({ ignored: 'only push is about code' });
  });

  test.each([
    ['not JSON', '{"ref":', /^payload is not valid JSON/],
    ['no repository', { ...push, repository: undefined }, /^repository is missing$/],
    ['no full name', { ...push, repository: { clone_url: 'x' } }, /^repository\.full_name is missing$/],
    ['a ref of the wrong type', { ...push, ref: 7 }, /^ref is not a string$/],
    ['a file list of the wrong type', { ...push, commits: [{ added: 'a.yaml' }] }, /^commits\[0\]\.added is not an array$/],
  ])('a malformed payload is a PayloadError naming the field: %s', (_name, payload, message) => {
    expect(() => parse(delivery(payload))).toThrow(PayloadError);
    expect(() => parse(delivery(payload))).toThrow(message);
  });
});

describe('the example as documented and loaded', () => {
  test('docs/writing-a-provider.md shows this file, whole', () => {
    const page = readFileSync(join(import.meta.dir, '..', 'writing-a-provider.md'), 'utf8');
    const shown = /<!-- acme\.ts -->\n```ts\n([\s\S]*?)```/.exec(page)?.[1];
    expect(shown).toBe(readFileSync(join(import.meta.dir, 'acme.ts'), 'utf8'));
  });

  test('pluginsDir loads it next to the built-in types (and skips this test file)', async () => {
    const catalog = await loadCatalog(builtinProviders, providerKit, '.', import.meta.dir);
    expect(catalog.get('acme')?.defaultEvents).toEqual(['push']);
    expect(catalog.size).toBe(builtinProviders.length + 1);
  });
});
