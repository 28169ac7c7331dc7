/**
 * GitHub's X-Hub-Signature-256 through @octokit/webhooks-methods: a body that is valid UTF-8 verifies over the
 * text octokit is given (which encodes back to the bytes received), any other body over its exact bytes.
 */
import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { utf8, utf8Once, verifyGithubSha256 } from '../../src/provider-kit/github-signature.ts';

const secret = 'It’s a Secret to Everybody';
const sha256 = (data: Uint8Array | string) => `sha256=${createHmac('sha256', secret).update(data).digest('hex')}`;
const request = (body: Uint8Array, signature?: string) => ({ body, headers: new Headers(signature === undefined ? {} : { 'x-hub-signature-256': signature }) });
const bytes = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((part) => (typeof part === 'string' ? [...new TextEncoder().encode(part)] : part)));

describe('verifyGithubSha256', () => {
  test('accepts what octokit signs, and a signature in upper case', async () => {
    const body = bytes('{"zen":"Keep it logically awesome."}');
    const header = await octokitSign(secret, new TextDecoder().decode(body));
    expect(await verifyGithubSha256(request(body, header), secret)).toEqual({ ok: true });
    expect(await verifyGithubSha256(request(body, header.toUpperCase()), secret)).toEqual({ ok: true });
  });

  test('a byte order mark is part of what was signed', async () => {
    const body = bytes([0xef, 0xbb, 0xbf], '{"a":1}');
    expect(await verifyGithubSha256(request(body, sha256(body)), secret)).toEqual({ ok: true });
    expect(await verifyGithubSha256(request(body, sha256(body.subarray(3))), secret)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('a body that is not UTF-8 verifies over its exact bytes', async () => {
    const latin1 = bytes('{"message":"caf', [0xe9], '"}');
    expect(utf8(latin1)).toBeUndefined();
    expect(await verifyGithubSha256(request(latin1, sha256(latin1)), secret)).toEqual({ ok: true });
  });

  test('bytes that would decode to the same text as a signed body do not take its signature', async () => {
    // The signed body holds U+FFFD itself; a lenient decoder reads 0xFF as U+FFFD too.
    const signed = bytes('{"message":"', [0xef, 0xbf, 0xbd], '"}');
    const forged = bytes('{"message":"', [0xff], '"}');
    expect(new TextDecoder().decode(forged)).toBe(new TextDecoder().decode(signed));
    expect(await verifyGithubSha256(request(signed, sha256(signed)), secret)).toEqual({ ok: true });
    expect(await verifyGithubSha256(request(forged, sha256(signed)), secret)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('an empty body is refused like a signature that does not match (octokit signs no empty payload)', async () => {
    const empty = new Uint8Array(0);
    expect(await verifyGithubSha256(request(empty, sha256(empty)), secret)).toEqual({ ok: false, reason: 'signature does not match' });
    expect(await verifyGithubSha256(request(bytes('{}'), 'sha256='), secret)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('missing, malformed and foreign headers keep the kit\'s reasons, and no secret is no verification', async () => {
    const body = bytes('{}');
    expect(await verifyGithubSha256(request(body), secret)).toEqual({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
    expect(await verifyGithubSha256(request(body, 'abc'), secret)).toEqual({ ok: false, reason: 'malformed X-Hub-Signature-256 header (expected sha256=<hex>)' });
    expect(await verifyGithubSha256(request(body, 'sha1=abc'), secret)).toEqual({ ok: false, reason: 'unsupported signature algorithm "sha1" in X-Hub-Signature-256' });
    expect(await verifyGithubSha256(request(body, sha256(body)), undefined)).toEqual({ ok: false, reason: 'no secret configured for this provider' });
  });
});

test('utf8Once decodes each body once and tells bodies apart', () => {
  const textOf = utf8Once();
  const body = bytes('{"a":1}');
  expect(textOf(body)).toBe('{"a":1}');
  expect(textOf(body)).toBe(textOf(body));
  expect(textOf(bytes([0xff]))).toBeUndefined();
});
