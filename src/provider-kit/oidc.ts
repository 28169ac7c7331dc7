/**
 * OIDC ID tokens as webhook credentials (CI jobs' tokens from GitHub Actions or GitLab CI, Google's for Pub/Sub
 * push): the signature by one of the issuer's published keys, `iss`, `aud` and `exp`, checked by `jose`. Keys come
 * from the issuer's discovery document and JWKS, cached, and fetched again when a token names a key not seen yet
 * (the issuer rotated its keys).
 *
 * Only asymmetric algorithms are accepted, so neither `alg: none` nor an HMAC "signed" with a public key passes.
 * Discovery and key requests follow no redirect and go only to the URL's own origin (src/pinned-fetch.ts): keys
 * are trusted for what they sign, so they are taken only from the address the issuer (or the config) names; a
 * redirect is an issuer failure (503), not a key source.
 *
 * jose is imported on the first token: it brings Node's http, https and net modules, which a gateway without an
 * OIDC provider should not pay for at start-up.
 */
import type { JWTVerifyGetKey } from 'jose';
import { OutboundRefusal, pinnedFetch } from '../core/index.ts';
import type { VerifyResult, WebhookRequest } from './contract.ts';
import { bearerToken } from './credentials.ts';
import { fail, printable } from './verdict.ts';

export interface OidcOptions {
  /** Issuers whose tokens are accepted, exactly as their `iss` claim spells them. */
  issuers: readonly string[];
  /** Accepted audiences: the token's `aud` must hold one. */
  audience: string | readonly string[];
  /** A JWKS URL per issuer, instead of discovery (`${issuer}/.well-known/openid-configuration`). */
  jwksUris?: Readonly<Record<string, string>>;
  /** Time allowed for discovery and key requests (default 5 s). */
  timeoutMs?: number;
  /** Clock skew tolerated on `exp`, `nbf` and `iat` (default 30 s). */
  clockToleranceSeconds?: number;
  /**
   * After fetching an issuer's keys, a token naming an unknown key does not fetch them again for this long
   * (default 30 s), so tokens with made-up key ids cannot make us hammer the issuer. Issuers publish a new key
   * before signing with it, so a rotation is normally seen at the next regular refresh (keys are kept 10 minutes).
   */
  keyRefetchCooldownMs?: number;
}

export interface OidcVerifier {
  /** Verifies `token` at `now`; a success carries the claims, and `jti` as the delivery id when present. */
  verify(token: string, now: Date): Promise<VerifyResult>;
  /** The same for the request's `Authorization: Bearer` token (refused when there is none). */
  verifyRequest(request: WebhookRequest, now: Date): Promise<VerifyResult>;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** A failed discovery is not retried for this long, so tokens naming a broken issuer cannot make us hammer it. */
const DISCOVERY_RETRY_MS = 10_000;

/**
 * One verifier per configured provider; it owns its issuers' key caches.
 *
 * @example
 * const oidc = oidcVerifier({ issuers: ['https://token.actions.githubusercontent.com'], audience: 'fluxgate' });
 * await oidc.verify(token, new Date()); // { ok: true, claims: { repository: 'org/app', ref: 'refs/heads/main', … }, deliveryId: '<jti>' }
 */
export function oidcVerifier(options: OidcOptions): OidcVerifier {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const keySets = new Map<string, { at: number; keys: Promise<JWTVerifyGetKey>; failed: boolean }>();
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience];

  async function discover(issuer: string): Promise<JWTVerifyGetKey> {
    const configured = options.jwksUris?.[issuer];
    let jwksUri = configured;
    if (!jwksUri) {
      const discovery = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const response = await pinnedFetch(discovery)(discovery, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`discovery answered ${response.status}`);
      const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (document.issuer !== issuer) throw new Error('the discovery document names another issuer');
      if (typeof document.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
      jwksUri = document.jwks_uri;
    }
    const { createRemoteJWKSet, customFetch } = await import('jose');
    // jose asks fetch for redirect: 'manual' itself; through pinnedFetch a redirect also says where it pointed.
    const keysFetch = pinnedFetch(jwksUri);
    return createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: timeoutMs, cooldownDuration: options.keyRefetchCooldownMs ?? 30_000, cacheMaxAge: 10 * 60_000, [customFetch]: keysFetch });
  }

  function keysOf(issuer: string, now: number): Promise<JWTVerifyGetKey> {
    const cached = keySets.get(issuer);
    // A failure is kept for a while, then a recovered issuer is tried again.
    if (cached && !(cached.failed && now - cached.at >= DISCOVERY_RETRY_MS)) return cached.keys;
    const entry = { at: now, keys: discover(issuer), failed: false };
    entry.keys.catch(() => (entry.failed = true));
    keySets.set(issuer, entry);
    return entry.keys;
  }

  async function verify(token: string, now: Date): Promise<VerifyResult> {
    const { decodeJwt, errors, jwtVerify } = await import('jose');
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      return fail('bearer token is not a JWT');
    }
    if (typeof issuer !== 'string' || !options.issuers.includes(issuer)) {
      const shown = typeof issuer === 'string' ? printable(issuer, /^https:\/\/[A-Za-z0-9.:/_-]{1,120}$/) : undefined;
      return fail(shown ? `token issuer ${shown} is not trusted` : 'token issuer is not trusted');
    }
    let keys: JWTVerifyGetKey;
    try {
      keys = await keysOf(issuer, now.getTime());
    } catch (error) {
      return { ok: false, reason: `cannot fetch the keys of issuer ${issuer}: ${(error as Error).message}`, retryable: true };
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms: ALGORITHMS,
        currentDate: now,
        clockTolerance: options.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp'],
      });
      return { ok: true, claims: payload, ...(typeof payload.jti === 'string' && payload.jti ? { deliveryId: payload.jti } : {}) };
    } catch (error) {
      return reasonFor(error, issuer, errors);
    }
  }

  return {
    verify,
    verifyRequest(request, now) {
      const token = bearerToken(request.headers.get('authorization'));
      return token === undefined ? Promise.resolve(fail('missing Authorization: Bearer token')) : verify(token, now);
    },
  };
}

function reasonFor(error: unknown, issuer: string, errors: typeof import('jose').errors): VerifyResult {
  if (error instanceof errors.JWTExpired) return fail('token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return fail(`token ${error.claim} claim is not accepted`);
  if (error instanceof errors.JOSEAlgNotAllowed) return fail('token algorithm is not accepted');
  if (error instanceof errors.JWSSignatureVerificationFailed) return fail('token signature does not match');
  if (error instanceof errors.JWKSNoMatchingKey) return fail(`no key of issuer ${issuer} matches the token`);
  if (error instanceof errors.JWKSTimeout) return { ok: false, reason: `the keys of issuer ${issuer} did not arrive in time`, retryable: true };
  if (error instanceof OutboundRefusal) return { ok: false, reason: `cannot fetch the keys of issuer ${issuer}: ${error.message}`, retryable: true };
  // Any failure to get the key set (an answer other than 200, no answer) is the issuer's, not the sender's.
  if (error instanceof errors.JOSEError && /fetch|network|ECONN|JSON Web Key Set/i.test(error.message)) {
    return { ok: false, reason: `cannot fetch the keys of issuer ${issuer}`, retryable: true };
  }
  if (error instanceof errors.JOSEError) return fail('token is malformed');
  if (error instanceof TypeError) return { ok: false, reason: `cannot fetch the keys of issuer ${issuer}`, retryable: true };
  return fail('token is not valid');
}
