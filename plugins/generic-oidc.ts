/**
 * `generic-oidc`: CI jobs that call fluxgate with their job's OIDC ID token (`Authorization: Bearer`) — GitHub
 * Actions, GitLab CI, or any issuer that publishes a discovery document.
 *
 * - verify: the signature by the issuer's published keys, `iss` in `options.issuers`, `aud` = `options.audience`,
 *   `exp`; then every `options.claims` condition (claim → glob). GitHub's issuer signs tokens for every repository
 *   on github.com and a job chooses its own audience, so the conditions are what admit only your jobs: at least
 *   one is required. The token's `jti` is the delivery id.
 * - parse: the repository and ref the token names — GitHub `repository` + `ref` (full), GitLab `project_path` +
 *   `ref_path` (or `ref` + `ref_type`) — and its commit `sha`. An optional JSON body in the generic payload shape
 *   adds `paths` and may replace `commit`; its `repository` and `ref`/`branch`/`tag` count only when the token
 *   names none: the claims are signed, the body is not, and a body must not point a token at another repository.
 * - describe: `X-Event` (default `push`); `X-Delivery` or `X-Request-Id` until verify replaces it with the `jti`.
 */
import type { ProviderFactory, VerifyResult } from '../src/pipeline/provider.ts';
import type { OidcVerifier, PayloadReader } from '../src/provider-kit/index.ts';

interface Options { issuers: string[]; audience: string; claims: Record<string, string> }
interface Key { oidc: OidcVerifier; conditions: { claim: string; pattern: string; matches: (value: string) => boolean }[] }

/** Claim values shown in a reason only when short and plain (any job of the issuer chooses them). */
const PLAIN = /^[A-Za-z0-9_.:/@-]{1,64}$/;

/** The web host of a GitHub Actions issuer: github.com (also for an enterprise's own issuer path), or a GHES host. */
function githubWeb(issuer: string | undefined): string | undefined {
  const url = issuer === undefined || !URL.canParse(issuer) ? undefined : new URL(issuer);
  if (url?.host === 'token.actions.githubusercontent.com') return 'https://github.com';
  if (url?.pathname === '/_services/token') return url.origin;
  return undefined;
}

const genericOidc: ProviderFactory = (kit) => {
  /** The ref a token names: GitHub's `ref` is full; GitLab's is short, with `ref_path` and `ref_type` beside it. */
  function tokenRef(token: PayloadReader) {
    const value = token.optionalString('ref');
    const path = token.optionalString('ref_path');
    const type = token.optionalString('ref_type');
    if (value?.startsWith('refs/')) return kit.ref(value);
    if (path?.startsWith('refs/')) return kit.ref(path);
    if (value && (type === 'branch' || type === 'tag')) return kit.refOf(type, value);
    return undefined;
  }

  function bodyRef(body: PayloadReader) {
    const full = body.optionalString('ref');
    if (full !== undefined && !full.startsWith('refs/')) throw new kit.PayloadError('ref must be a full ref such as refs/heads/main (or use branch or tag)');
    const branch = body.optionalString('branch');
    const tag = body.optionalString('tag');
    return full !== undefined ? kit.ref(full) : branch !== undefined ? kit.refOf('branch', branch) : tag !== undefined ? kit.refOf('tag', tag) : undefined;
  }

  /** `paths` of the body; beyond the cap the changed paths are unknown, as for a host's truncated list. */
  function pathsOf(body: PayloadReader | undefined): string[] | undefined {
    const paths = body?.value.paths;
    if (paths === undefined || paths === null) return undefined;
    if (!Array.isArray(paths)) throw new kit.PayloadError('paths is not an array');
    if (paths.length > kit.limits.changedPaths) return undefined;
    if (!paths.every((path) => typeof path === 'string')) throw new kit.PayloadError('paths holds a non-string');
    return [...new Set(paths as string[])];
  }

  return {
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
          throw new Error(`claims.${claim}: ${(error as Error).message}`);
        }
      });
      return { oidc: kit.oidc({ issuers, audience }), conditions };
    },

    describe: (headers) => ({
      event: headers.get('x-event') || 'push',
      deliveryId: headers.get('x-delivery') || headers.get('x-request-id') || undefined,
    }),

    async verify(request, key: Key, now): Promise<VerifyResult> {
      const token = kit.bearerToken(request.headers.get('authorization'));
      if (token === undefined) return { ok: false, reason: 'missing Authorization: Bearer token' };
      const verdict = await key.oidc.verify(token, now);
      if (!verdict.ok) return verdict;
      for (const { claim, pattern, matches } of key.conditions) {
        const value = verdict.claims?.[claim];
        const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
        if (text === undefined) return { ok: false, reason: `token has no ${claim} claim` };
        if (!matches(text)) return { ok: false, reason: `token claim ${claim}${PLAIN.test(text) ? ` ${text}` : ''} does not match ${pattern}` };
      }
      return verdict;
    },

    parse(request, info) {
      if (info.claims === undefined) throw new kit.PayloadError('no verified token claims');
      const token = kit.read(info.claims, 'token');
      const text = kit.text(request.body).trim();
      const body = text === '' ? undefined : kit.read(kit.json(text));

      const names = kit.repositoryNames('repository');
      const issuer = token.optionalString('iss')?.replace(/\/+$/, '');
      const project = token.optionalString('project_path');
      const repository = token.optionalString('repository');
      const web = githubWeb(issuer);
      if (project) names.add(project, issuer ? `${issuer}/${project}` : '');
      else if (repository) names.add(repository, web ? `${web}/${repository}` : '');
      else if (body) {
        const given = body.value.repository;
        if (typeof given === 'string') names.add(given);
        else if (Array.isArray(given)) {
          for (const item of given) {
            if (typeof item !== 'string') throw new kit.PayloadError('repository holds a non-string');
            names.add(item);
          }
        } else if (given !== undefined && given !== null) throw new kit.PayloadError('repository is not a string or an array');
      }
      const repositories = names.list();
      if (repositories.length === 0) throw new kit.PayloadError('the token names no repository and the body gives none');

      const ref = tokenRef(token) ?? (body && bodyRef(body));
      const commit = body?.optionalString('commit') ?? token.optionalString('sha');
      const changedPaths = pathsOf(body);
      return { events: [{ event: info.event ?? 'push', repositories, ...ref, ...(commit && { commit }), ...(changedPaths && { changedPaths }) }] };
    },

    sign: () => ({}),
  };
};

export default genericOidc;
