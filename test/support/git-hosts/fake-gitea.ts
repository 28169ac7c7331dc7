/**
 * A fake Gitea/Forgejo REST API (v1) for repository and organization hooks: `Authorization: token`, `page`/`limit`
 * with `Link` and `X-Total-Count`, Gitea's error bodies, and its edit semantics: an edit rewrites the event list
 * (none sent = push only) and the branch filter, applies `config.url`/`content_type`, and ignores a secret.
 *
 * @example
 * const gitea = startFakeGitea({ tokens: { 'gitea-admin': {} } });
 */
import { json, page, startFakeApi, type FakeApi } from './fake-api.ts';

export interface GiteaHookRecord {
  id: number;
  type: string;
  active: boolean;
  events: string[];
  branch_filter: string;
  config: { url: string; content_type: string };
  secret?: string;
}

export interface FakeGitea extends FakeApi {
  /** Hooks of `repos/OWNER/REPO` or `orgs/ORG`, secrets in clear. */
  hooks(scope: string): GiteaHookRecord[];
  seed(scope: string, hooks: Omit<GiteaHookRecord, 'id'>[]): void;
}

export function startFakeGitea(options: { tokens: Record<string, { admin?: string[] }> }): FakeGitea {
  const store = new Map<string, GiteaHookRecord[]>();
  let nextId = 1;
  const wire = (hook: GiteaHookRecord) => ({ id: hook.id, type: hook.type, branch_filter: hook.branch_filter, config: { ...hook.config }, events: hook.events, authorization_header: '', active: hook.active, updated_at: '2026-01-01T00:00:00Z', created_at: '2026-01-01T00:00:00Z' });

  const api = startFakeApi('authorization', (request, url) => {
    const token = /^token (.+)$/.exec(request.auth ?? '')?.[1];
    const grant = token === undefined ? undefined : options.tokens[token];
    if (!grant) return json({ message: 'user does not exist [uid: 0, name: ]', url: 'https://gitea.example.com/api/swagger' }, 401);
    const match = /^\/api\/v1\/(repos\/[^/]+\/[^/]+|orgs\/[^/]+)\/hooks(?:\/(\d+))?$/.exec(url.pathname);
    if (!match) return json({ errors: null, message: 'not found', url: 'https://gitea.example.com/api/swagger' }, 404);
    const scope = decodeURIComponent(match[1]!);
    if (grant.admin && !grant.admin.includes(scope)) return json({ message: 'token does not have at least one of required scope(s): [write:repository]', url: 'https://gitea.example.com/api/swagger' }, 403);
    const hooks = store.get(scope) ?? [];
    store.set(scope, hooks);
    if (match[2] === undefined) {
      if (request.method === 'GET') return page(url, hooks.map(wire), 'limit', 30, 50, () => ({ 'X-Total-Count': String(hooks.length) }));
      if (request.method !== 'POST') return json({ message: 'method not allowed' }, 405);
      const body = request.body as { type?: string; active?: boolean; events?: string[]; branch_filter?: string; config?: Record<string, string> };
      if (!body?.type || !body.config?.url || !body.config.content_type) return json({ message: 'Missing config option: url', url: '' }, 422);
      const hook: GiteaHookRecord = { id: nextId++, type: body.type, active: body.active ?? false, events: body.events?.length ? body.events : ['push'], branch_filter: body.branch_filter ?? '', config: { url: body.config.url, content_type: body.config.content_type }, ...(body.config.secret ? { secret: body.config.secret } : {}) };
      hooks.push(hook);
      return json(wire(hook), 201);
    }
    const hook = hooks.find((candidate) => candidate.id === Number(match[2]));
    if (!hook) return json({ errors: null, message: 'not found', url: '' }, 404);
    if (request.method === 'DELETE') {
      hooks.splice(hooks.indexOf(hook), 1);
      return new Response(null, { status: 204 });
    }
    if (request.method !== 'PATCH') return json({ message: 'method not allowed' }, 405);
    const body = (request.body ?? {}) as { active?: boolean; events?: string[]; branch_filter?: string; config?: Record<string, string> };
    if (body.config?.url !== undefined) hook.config.url = body.config.url;
    if (body.config?.content_type !== undefined) hook.config.content_type = body.config.content_type;
    hook.events = body.events?.length ? body.events : ['push'];
    hook.branch_filter = body.branch_filter ?? '';
    if (body.active !== undefined) hook.active = body.active;
    return json(wire(hook));
  });

  return {
    ...api,
    hooks: (scope) => store.get(scope) ?? [],
    seed(scope, hooks) {
      store.set(scope, [...(store.get(scope) ?? []), ...hooks.map((hook) => ({ ...structuredClone(hook), id: nextId++ }))]);
    },
  };
}
