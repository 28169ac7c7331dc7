/**
 * `generic-hmac`: fluxgate's own payload signed with `X-Signature: <algorithm>=<hex>`. The signature cases here;
 * describe and parse are the generic payload's (test/support/generic-payload-cases.ts), as for `generic`.
 */
import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import genericHmac from '../../../plugins/generic-hmac/codec.ts';
import type { WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { providerKit } from '../../../src/provider-kit/kit.ts';
import { drive } from '../../support/codec-adapter.ts';
import { genericPayloadCases } from '../../support/generic-payload-cases.ts';

const hmacPlugin = Object.assign(drive(genericHmac), { id: 'generic-hmac' });
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

test('generic-hmac reads a secret', () => {
  expect(genericHmac(providerKit).secretFields).toEqual(['secret']);
});

test('generic-hmac sign matches an independent HMAC', () => {
  const body = encoder.encode('{"repository":"acme/fleet","ref":"refs/heads/main"}');
  const expected = createHmac('sha256', SECRET).update(body).digest('hex');
  expect(hmacPlugin.sign(body, { secret: SECRET })).toEqual({ 'X-Signature': `sha256=${expected}` });
});

genericPayloadCases(hmacPlugin);
