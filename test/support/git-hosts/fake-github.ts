/**
 * A fake GitHub REST API for repository and organization webhooks, as fluxgate register uses it: `Authorization:
 * Bearer`, `per_page`/`page` with `Link`, the secret shown as `********`, `PATCH …/hooks/:id` (which, like
 * GitHub, drops the secret when `config` comes without one) and `PATCH …/hooks/:id/config` (which changes only the
 * keys sent), GitHub's error bodies and its `X-OAuth-Scopes` / `X-Accepted-OAuth-Scopes` headers.
 *
 * @example
 * const github = startFakeGitHub({ tokens: { 'ghp_admin': { scopes: 'admin:repo_hook, admin:org_hook' } } });
 * // point register.apiUrl at github.origin
 */
import { json, page, startFakeApi, type FakeApi } from './fake-api.ts';

export interface GitHubHookRecord {
  id: number;
  active: boolean;
  events: string[];
  config: { url: string; content_type: string; insecure_ssl: string; secret?: string };
}

export interface FakeGitHub extends FakeApi {
  /** The hooks of `repos/OWNER/REPO` or `orgs/ORG`, secrets in clear (for assertions). */
  hooks(scope: string): GitHubHookRecord[];
  /** Puts hooks there (ids assigned in order). */
  seed(scope: string, hooks: Omit<GitHubHookRecord, 'id'>[]): void;
}

interface TokenGrant {
  /** What X-OAuth-Scopes says. */
  scopes: string;
  /** Scopes (`repos/o/r`, `orgs/o`) the token may manage hooks on; absent: all. */
  admin?: string[];
}

const NOT_FOUND = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/webhooks#list-repository-webhooks', status: '404' };

export function startFakeGitHub(options: { tokens: Record<string, TokenGrant>; prefix?: string }): FakeGitHub {
  const store = new Map<string, GitHubHookRecord[]>();
  let nextId = 1;
  const prefix = options.prefix ?? '';
  const wire = (hook: GitHubHookRecord, scope: string) => ({
    type: scope.startsWith('orgs/') ? 'Organization' : 'Repository',
    id: hook.id,
    name: 'web',
    active: hook.active,
    events: hook.events,
    config: { content_type: hook.config.content_type, insecure_ssl: hook.config.insecure_ssl, url: hook.config.url, ...(hook.config.secret ? { secret: '********' } : {}) },
    updated_at: '2026-01-01T00:00:00Z',
    created_at: '2026-01-01T00:00:00Z',
  });

  const api = startFakeApi('authorization', (request, url) => {
    const token = /^(?:Bearer|token) (.+)$/.exec(request.auth ?? '')?.[1];
    const grant = token === undefined ? undefined : options.tokens[token];
    if (!grant) return json({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }, 401);
    const scopeHeaders = { 'X-OAuth-Scopes': grant.scopes };
    const path = url.pathname.slice(prefix.length);
    const match = /^\/(repos\/[^/]+\/[^/]+|orgs\/[^/]+)\/hooks(?:\/(\d+)(\/config)?)?$/.exec(path);
    if (!match) return json(NOT_FOUND, 404, scopeHeaders);
    const scope = decodeURIComponent(match[1]!);
    const accepted = { ...scopeHeaders, 'X-Accepted-OAuth-Scopes': scope.startsWith('orgs/') ? 'admin:org_hook, read:org_hook' : 'admin:repo_hook, read:repo_hook, repo' };
    if (grant.admin && !grant.admin.includes(scope)) return json(NOT_FOUND, 404, accepted);
    const hooks = store.get(scope) ?? [];
    store.set(scope, hooks);
    if (match[2] === undefined) {
      if (request.method === 'GET') return page(url, hooks.map((hook) => wire(hook, scope)), 'per_page', 30, 100);
      if (request.method !== 'POST') return json({ message: 'Not Found' }, 404);
      const body = request.body as { name?: string; active?: boolean; events?: string[]; config?: Record<string, string> };
      if (body?.name !== 'web' || !body.config?.url) return json({ message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'config.url is missing' }] }, 422);
      if (hooks.some((hook) => hook.config.url === body.config!.url)) return json({ message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Hook already exists on this repository' }] }, 422);
      const hook: GitHubHookRecord = { id: nextId++, active: body.active ?? true, events: body.events ?? ['push'], config: { url: body.config.url, content_type: body.config.content_type ?? 'form', insecure_ssl: String(body.config.insecure_ssl ?? '0'), ...(body.config.secret ? { secret: body.config.secret } : {}) } };
      hooks.push(hook);
      return json(wire(hook, scope), 201, accepted);
    }
    const hook = hooks.find((candidate) => candidate.id === Number(match[2]));
    if (!hook) return json(NOT_FOUND, 404, accepted);
    if (match[3]) {
      if (request.method !== 'PATCH') return json(NOT_FOUND, 404);
      Object.assign(hook.config, request.body);
      return json(wire(hook, scope).config, 200, accepted);
    }
    if (request.method === 'DELETE') {
      hooks.splice(hooks.indexOf(hook), 1);
      return new Response(null, { status: 204, headers: accepted });
    }
    if (request.method !== 'PATCH') return json(NOT_FOUND, 404);
    const body = request.body as { active?: boolean; events?: string[]; config?: Partial<GitHubHookRecord['config']> };
    if (body.events) hook.events = body.events;
    if (body.active !== undefined) hook.active = body.active;
    // As GitHub documents: a config sent here replaces the old one, and a secret not sent again is removed.
    if (body.config) hook.config = { url: hook.config.url, content_type: 'form', insecure_ssl: '0', ...body.config };
    return json(wire(hook, scope), 200, accepted);
  });

  return {
    ...api,
    hooks: (scope) => store.get(scope) ?? [],
    seed(scope, hooks) {
      store.set(scope, [...(store.get(scope) ?? []), ...hooks.map((hook) => ({ ...structuredClone(hook), id: nextId++ }))]);
    },
  };
}
