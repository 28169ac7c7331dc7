/** Credentials in an `Authorization` header: HTTP Basic (Azure DevOps service hooks) and bearer tokens (OIDC). */

/**
 * The user and password of a Basic `Authorization` header; undefined when it is not one.
 * @example basicAuth('Basic dXNlcjpwYXNz') // { username: 'user', password: 'pass' }
 */
export function basicAuth(header: string | null): { username: string; password: string } | undefined {
  const match = header ? /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The `Authorization` value for Basic credentials. */
export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The token of a `Bearer` `Authorization` header; undefined when it is not one. */
export function bearerToken(header: string | null): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}
