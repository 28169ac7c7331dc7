/**
 * A local OIDC issuer on loopback: a discovery document, a JWKS with its own keys (rotatable), and tokens signed
 * with them, so OIDC verification is tested against real HTTP and real signatures.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

type Key = { kid: string; privateKey: CryptoKey; publicJwk: JWK };

export interface OidcIssuer {
  issuer: string;
  jwksUri: string;
  /** GETs received, by path. */
  requests: string[];
  /** Signs a token with the current key (RS256), `iss` = this issuer, `exp` = now + 5 min unless given. */
  token(claims: JWTPayload, options?: { now?: Date; key?: 'current' | 'unpublished' }): Promise<string>;
  /** Publishes a new key and retires the old one (what issuers do on rotation). */
  rotate(): Promise<void>;
  /** Answers 503 to everything while down. */
  setDown(down: boolean): void;
  /** Answers requests for `path` (`/.well-known/openid-configuration`, `/jwks`) with `answer` instead; undefined restores them. */
  override(path: string, answer: (() => Response) | undefined): void;
  /** The PEM-less public JWK of the current key (for forging tests). */
  publicJwk(): JWK;
  stop(): Promise<void>;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export async function startOidcIssuer(): Promise<OidcIssuer> {
  let generation = 1;
  let current = await newKey(`key-${generation}`);
  const unpublished = await newKey('key-unpublished');
  let down = false;
  const overrides = new Map<string, () => Response>();
  const requests: string[] = [];
  // The issuer's URL is known once the port is: the handler reads it from this holder.
  const self = { issuer: '' };
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request): Response {
      const path = new URL(request.url).pathname;
      requests.push(path);
      if (down) return new Response('unavailable', { status: 503 });
      const override = overrides.get(path);
      if (override) return override();
      if (path === '/.well-known/openid-configuration') return Response.json({ issuer: self.issuer, jwks_uri: `${self.issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] });
      if (path === '/jwks') return Response.json({ keys: [current.publicJwk] });
      return new Response('not found', { status: 404 });
    },
  });
  const issuer: string = `http://127.0.0.1:${server.port}`;
  self.issuer = issuer;
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    requests,
    async token(claims, options = {}) {
      const key = options.key === 'unpublished' ? unpublished : current;
      const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
      return new SignJWT({ iss: issuer, iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    },
    async rotate() {
      generation += 1;
      current = await newKey(`key-${generation}`);
    },
    setDown: (value) => (down = value),
    override: (path, answer) => void (answer ? overrides.set(path, answer) : overrides.delete(path)),
    publicJwk: () => current.publicJwk,
    stop: () => server.stop(true),
  };
}
