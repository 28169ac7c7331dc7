/** OIDC verification against a local issuer with its own keys: real discovery, JWKS and signatures. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { SignJWT } from 'jose';
import { oidcVerifier } from '../../src/provider-kit/oidc.ts';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';

let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.stop());

const now = new Date();
const claims = { aud: 'fluxgate', sub: 'repo:org/app:ref:refs/heads/main', repository: 'org/app', jti: 'jti-1' };
const verifier = () => oidcVerifier({ issuers: [issuer.issuer], audience: 'fluxgate' });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('oidcVerifier', () => {
  test('a token signed by the issuer: ok, with its claims and jti as the delivery id', async () => {
    const verdict = await verifier().verify(await issuer.token(claims), now);
    expect(verdict).toMatchObject({ ok: true, deliveryId: 'jti-1', claims: { repository: 'org/app', iss: issuer.issuer } });
  });

  test.each<[string, () => Promise<string>, string]>([
    ['expired', () => issuer.token(claims, { now: new Date(now.getTime() - 3_600_000) }), 'token has expired'],
    ['another audience', () => issuer.token({ ...claims, aud: 'someone-else' }), 'token aud claim is not accepted'],
    ['no exp', async () => new SignJWT({ ...claims, iss: issuer.issuer }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32)), 'token algorithm is not accepted'],
    ['signed by a key the issuer never published', () => issuer.token(claims, { key: 'unpublished' }), `no key of issuer ${issuer?.issuer} matches the token`],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: issuer.issuer, exp: Math.floor(now.getTime() / 1000) + 60 })}.`, 'token algorithm is not accepted'],
    [
      'HS256 "signed" with the issuer\'s public key',
      async () => new SignJWT({ ...claims, iss: issuer.issuer }).setProtectedHeader({ alg: 'HS256', kid: issuer.publicJwk().kid }).setExpirationTime('5m').sign(new TextEncoder().encode(JSON.stringify(issuer.publicJwk()))),
      'token algorithm is not accepted',
    ],
    ['not a JWT', async () => 'hello', 'bearer token is not a JWT'],
  ])('%s is refused', async (_name, make, reason) => {
    const verdict = await verifier().verify(await make(), now);
    expect(verdict).toEqual({ ok: false, reason: reason.replace('undefined', issuer.issuer) });
  });

  test('a tampered payload does not verify', async () => {
    const [header, , signature] = (await issuer.token(claims)).split('.');
    const forged = `${header}.${b64({ ...claims, iss: issuer.issuer, repository: 'org/evil', exp: Math.floor(now.getTime() / 1000) + 60 })}.${signature}`;
    expect(await verifier().verify(forged, now)).toEqual({ ok: false, reason: 'token signature does not match' });
  });

  test('an untrusted issuer is named only when it reads as a plain https URL', async () => {
    const other = `${b64({ alg: 'RS256' })}.${b64({ iss: 'https://evil.example.com' })}.x`;
    expect(await verifier().verify(other, now)).toEqual({ ok: false, reason: 'token issuer https://evil.example.com is not trusted' });
    const hostile = `${b64({ alg: 'RS256' })}.${b64({ iss: '<img src=x>' })}.x`;
    expect(await verifier().verify(hostile, now)).toEqual({ ok: false, reason: 'token issuer is not trusted' });
  });

  test('discovery and keys are fetched once, and again when the issuer rotates its keys', async () => {
    const oidc = oidcVerifier({ issuers: [issuer.issuer], audience: 'fluxgate', keyRefetchCooldownMs: 0 });
    const before = issuer.requests.length;
    expect((await oidc.verify(await issuer.token(claims), now)).ok).toBe(true);
    expect((await oidc.verify(await issuer.token(claims), now)).ok).toBe(true);
    expect(issuer.requests.slice(before)).toEqual(['/.well-known/openid-configuration', '/jwks']);
    await issuer.rotate();
    expect((await oidc.verify(await issuer.token(claims), now)).ok).toBe(true);
    expect(issuer.requests.slice(before)).toEqual(['/.well-known/openid-configuration', '/jwks', '/jwks']);
  });

  test('within the cooldown, a token naming an unknown key fetches nothing', async () => {
    const oidc = verifier();
    expect((await oidc.verify(await issuer.token(claims), now)).ok).toBe(true);
    const before = issuer.requests.length;
    expect(await oidc.verify(await issuer.token(claims, { key: 'unpublished' }), now)).toMatchObject({ ok: false });
    expect(issuer.requests.length).toBe(before);
  });

  test('an issuer that cannot be reached is a retryable failure, not a 401', async () => {
    const token = await issuer.token(claims);
    issuer.setDown(true);
    try {
      expect(await verifier().verify(token, now)).toMatchObject({ ok: false, retryable: true });
    } finally {
      issuer.setDown(false);
    }
  });
});

describe('verifyRequest', () => {
  test('reads the bearer token of the request', async () => {
    const oidc = verifier();
    const request = (authorization?: string) => ({ body: new Uint8Array(), headers: new Headers(authorization ? { authorization } : {}) });
    expect((await oidc.verifyRequest(request(`Bearer ${await issuer.token(claims)}`), now)).ok).toBe(true);
    expect(await oidc.verifyRequest(request(), now)).toEqual({ ok: false, reason: 'missing Authorization: Bearer token' });
    expect(await oidc.verifyRequest(request('Basic abc'), now)).toEqual({ ok: false, reason: 'missing Authorization: Bearer token' });
  });

  test('a key set URL that answers an error is retryable too', async () => {
    const oidc = oidcVerifier({ issuers: [issuer.issuer], audience: 'fluxgate', jwksUris: { [issuer.issuer]: `${issuer.issuer}/no-such-keys` } });
    expect(await oidc.verify(await issuer.token(claims), now)).toMatchObject({ ok: false, retryable: true });
  });
});
