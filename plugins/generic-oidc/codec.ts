/**
 * `generic-oidc`: CI jobs that call fluxgate with their job's OIDC ID token (`Authorization: Bearer`) — GitHub
 * Actions, GitLab CI, or any issuer that publishes a discovery document.
 *
 * - verify: the signature by the issuer's published keys, `iss` in `options.issuers`, `aud` = `options.audience`,
 *   `exp`; then every `options.claims` condition (claim → glob). GitHub's issuer signs tokens for every repository
 *   on github.com and a job chooses its own audience, so the conditions are what admit only your jobs: at least
 *   one is required. The token's `jti` is the delivery id.
 * - parse: the repository and ref the token names — GitHub `repository` + `ref` (full), GitLab `project_path` +
 *   `ref_path` (or `ref` + `ref_type`) — and its commit `sha`, over an optional body in fluxgate's generic payload
 *   shape (`paths`, a `commit` that replaces `sha`). The body's `repository` and `ref`/`branch`/`tag` count only
 *   when the token names none: the claims are signed, the body is not.
 * - describe: `X-Event` (default `push`); `X-Delivery` or `X-Request-Id` until verify replaces it with the `jti`.
 */
import type { VerifyResult } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';
import type { OidcVerifier, PayloadReader, ProviderKit } from '../../src/provider-kit/index.ts';

interface Options { issuers: string[]; audience: string; claims: Record<string, string> }
interface Key { oidc: OidcVerifier; conditions: { claim: string; pattern: string; matches: (value: string) => boolean }[] }

/** The repository a token names (GitLab's project, GitHub's repository) with its web URL; undefined for other issuers. */
function tokenRepository(kit: ProviderKit, token: PayloadReader): string[] | undefined {
  const issuer = kit.trimTrailing(token.optionalString('iss') ?? '', '/');
  const url = URL.canParse(issuer) ? new URL(issuer) : undefined;
  // github.com's issuer (also with an enterprise's path), or a GHES host's https://HOST/_services/token. Empty names are skipped.
  const github = url?.host === 'token.actions.githubusercontent.com' ? 'https://github.com' : url?.pathname === '/_services/token' ? url.origin : '';
  const [project, repository] = [token.optionalString('project_path'), token.optionalString('repository')];
  if (project) return [project, issuer && `${issuer}/${project}`];
  return repository ? [repository, github && `${github}/${repository}`] : undefined;
}

const genericOidc: ProviderFactory = (kit) => ({
  id: 'generic-oidc',
  defaultEvents: ['push'],
  secretFields: [],
  keyless: true,
  options: kit.Type.Object(
    {
      issuers: kit.Type.Array(kit.Type.String({ pattern: '^https?://' }), { minItems: 1, uniqueItems: true, description: 'token issuers, as their iss claim spells them' }),
      audience: kit.Type.String({ minLength: 1, description: 'the audience the jobs request their token for' }),
      claims: kit.Type.Record(kit.Type.String(), kit.Type.String({ minLength: 1 }), { minProperties: 1, description: 'claim → glob; all must match' }),
    },
    { additionalProperties: false },
  ),
  prepare(_secrets, options): Key {
    const { issuers, audience, claims } = options as Options;
    const conditions = Object.entries(claims).map(([claim, pattern]) => {
      try {
        return { claim, pattern, matches: kit.glob(pattern) };
      } catch (error) {
        throw kit.problem(`options.claims.${claim}`, (error as Error).message);
      }
    });
    return { oidc: kit.oidc({ issuers, audience }), conditions };
  },
  describe: (headers) => ({ event: headers.get('x-event') || 'push', deliveryId: headers.get('x-delivery') || headers.get('x-request-id') || undefined }),
  async verify(request, key: Key, now): Promise<VerifyResult> {
    const verdict = await key.oidc.verifyRequest(request, now);
    if (!verdict.ok) return verdict;
    for (const { claim, pattern, matches } of key.conditions) {
      const value = verdict.claims?.[claim];
      const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      if (text === undefined) return { ok: false, reason: `token has no ${claim} claim` };
      const shown = kit.printable(text);
      if (!matches(text)) return { ok: false, reason: `token claim ${claim}${shown ? ` ${shown}` : ''} does not match ${pattern}` };
    }
    return verdict;
  },
  parse(request, info) {
    if (info.claims === undefined) throw new kit.PayloadError('no verified token claims');
    const token = kit.read(info.claims, 'token');
    const text = kit.text(request.body).trim();
    const body = text === '' ? {} : kit.read(kit.json(text)).value;
    const repository = tokenRepository(kit, token) ?? body.repository;
    if (repository === undefined || repository === null) throw new kit.PayloadError('the token names no repository and the body gives none');
    // GitHub's `ref` is full; GitLab's is short, with `ref_path` (or `ref_type`) beside it.
    const [ref, path, type] = [token.optionalString('ref'), token.optionalString('ref_path'), token.optionalString('ref_type')];
    const full = ref?.startsWith('refs/') ? ref : path?.startsWith('refs/') ? path : ref && (type === 'branch' || type === 'tag') ? kit.refOf(type, ref).ref : undefined;
    const sha = token.optionalString('sha');
    // What the token names replaces the body's: a body must not point a token at another repository or ref.
    const payload = { ...body, repository, ...(full && { ref: full, branch: undefined, tag: undefined }), ...(sha && body.commit == null && { commit: sha }) };
    return { events: [kit.genericEvent(payload, info.event ?? 'push')] };
  },
  sign: () => ({}),
});

export default genericOidc;
