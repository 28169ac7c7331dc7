import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { signHmacHeader, verifyHmacHeader, type HmacSignature } from '../../src/provider-kit/hmac.ts';

const body = new TextEncoder().encode('{"ref":"refs/heads/main"}');
const secret = 'It’s a Secret to Everybody';
const hex = (algorithm: string, data: Uint8Array | string = body) => createHmac(algorithm, secret).update(data).digest('hex');
const github: HmacSignature = { header: 'X-Hub-Signature-256', algorithms: ['sha256'], prefixed: true };
const generic: HmacSignature = { header: 'X-Signature', algorithms: ['sha256', 'sha1', 'sha512'], prefixed: true };
const gitea: HmacSignature = { header: 'X-Gitea-Signature', algorithms: ['sha256'], prefixed: false };
const request = (headers: Record<string, string>, data = body) => ({ body: data, headers: new Headers(headers) });

describe('hmacHeader.verify', () => {
  test.each<[string, HmacSignature, Record<string, string>, string | undefined]>([
    ['prefixed sha256', github, { 'x-hub-signature-256': `sha256=${hex('sha256')}` }, undefined],
    ['upper-case hex and algorithm', github, { 'x-hub-signature-256': `SHA256=${hex('sha256').toUpperCase()}` }, undefined],
    ['any listed algorithm', generic, { 'x-signature': `sha512=${hex('sha512')}` }, undefined],
    ['bare hex', gitea, { 'x-gitea-signature': hex('sha256') }, undefined],
    ['missing header', github, {}, 'missing X-Hub-Signature-256 header'],
    ['no separator', github, { 'x-hub-signature-256': hex('sha256') }, 'malformed X-Hub-Signature-256 header (expected sha256=<hex>)'],
    ['unlisted algorithm, named', github, { 'x-hub-signature-256': `sha1=${hex('sha1')}` }, 'unsupported signature algorithm "sha1" in X-Hub-Signature-256'],
    ['unprintable algorithm, not echoed', github, { 'x-hub-signature-256': `<script>=${hex('sha256')}` }, 'unsupported signature algorithm in X-Hub-Signature-256'],
    ['wrong digest', github, { 'x-hub-signature-256': `sha256=${hex('sha256', 'other')}` }, 'signature does not match'],
    ['bare hex of another body', gitea, { 'x-gitea-signature': hex('sha256', 'other') }, 'signature does not match'],
  ])('%s', (_name, signature, headers, reason) => {
    const verdict = verifyHmacHeader(request(headers), signature, secret);
    expect(verdict).toEqual(reason === undefined ? { ok: true } : { ok: false, reason });
  });

  test('no configured secret fails, whatever the request says', () => {
    expect(verifyHmacHeader(request({ 'x-hub-signature-256': `sha256=${hex('sha256')}` }), github, undefined)).toEqual({ ok: false, reason: 'no secret configured for this provider' });
  });

  test('other bytes than the body can be the signed data (Gitea signs the JSON inside a form body)', () => {
    const json = new TextEncoder().encode('{"a":1}');
    expect(verifyHmacHeader(request({ 'x-gitea-signature': hex('sha256', json) }), gitea, secret, json)).toEqual({ ok: true });
  });

  test('sign makes the header verify accepts', () => {
    for (const signature of [github, generic, gitea]) {
      expect(verifyHmacHeader(request({ [signature.header]: signHmacHeader(signature, secret, body) }), signature, secret)).toEqual({ ok: true });
    }
  });
});

describe('interoperability with @octokit/webhooks-methods (GitHub\'s own implementation)', () => {
  test('our verify accepts what octokit signs, and refuses it for a tampered body', async () => {
    const text = new TextDecoder().decode(body);
    const header = await octokitSign(secret, text);
    expect(verifyHmacHeader(request({ 'x-hub-signature-256': header }), github, secret)).toEqual({ ok: true });
    const tampered = new TextEncoder().encode(text.replace('main', 'mainx'));
    expect(verifyHmacHeader(request({ 'x-hub-signature-256': header }, tampered), github, secret)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('octokit verifies what we sign', async () => {
    expect(await octokitVerify(secret, new TextDecoder().decode(body), signHmacHeader(github, secret, body))).toBe(true);
  });
});
