/**
 * A fake GitLab REST API (v4) for project and group hooks, as gitbeaker calls it: `PRIVATE-TOKEN`, projects and
 * groups by URL-encoded path or id, `page`/`per_page` with `Link` and the `X-Page`/`X-Total` headers, GitLab's
 * error bodies (`{"message":"403 Forbidden"}`), the hook's `token` and — when `signingTokens` is on, as on a GitLab
 * with signed webhooks — `signing_token`, reported as `token_present` / `signing_token_present`.
 *
 * @example
 * const gitlab = startFakeGitLab({ tokens: { 'glpat-maintainer': {} } });
 * // point register.apiUrl at gitlab.origin
 */
import { json, page, startFakeApi, type FakeApi } from './fake-api.ts';

const FLAGS = ['push_events', 'tag_push_events', 'merge_requests_events', 'issues_events', 'confidential_issues_events', 'note_events', 'confidential_note_events', 'job_events', 'pipeline_events', 'wiki_page_events', 'deployment_events', 'releases_events'];

export interface GitLabHookRecord {
  id: number;
  url: string;
  flags: Record<string, boolean>;
  enable_ssl_verification: boolean;
  token?: string;
  signing_token?: string;
}

export interface FakeGitLab extends FakeApi {
  /** Hooks of `projects/PATH` or `groups/PATH` (decoded), tokens in clear. */
  hooks(scope: string): GitLabHookRecord[];
  seed(scope: string, hooks: Omit<GitLabHookRecord, 'id'>[]): void;
}

interface TokenGrant {
  /** Scopes the token may manage hooks on (`projects/group/app`); absent: all. Others answer 403. */
  maintainer?: string[];
}

export function startFakeGitLab(options: { tokens: Record<string, TokenGrant>; signingTokens?: boolean }): FakeGitLab {
  const store = new Map<string, GitLabHookRecord[]>();
  let nextId = 1;
  const wire = (hook: GitLabHookRecord, scope: string) => ({
    id: hook.id,
    url: hook.url,
    ...(scope.startsWith('projects/') ? { project_id: 42 } : { group_id: 7 }),
    ...Object.fromEntries(FLAGS.map((flag) => [flag, hook.flags[flag] ?? false])),
    push_events_branch_filter: '',
    enable_ssl_verification: hook.enable_ssl_verification,
    alert_status: 'executable',
    created_at: '2026-01-01T00:00:00.000Z',
    ...(options.signingTokens ? { token_present: hook.token !== undefined, signing_token_present: hook.signing_token !== undefined } : {}),
  });
  const fields = (body: Record<string, unknown>, hook: GitLabHookRecord) => {
    for (const flag of FLAGS) if (typeof body[flag] === 'boolean') hook.flags[flag] = body[flag] as boolean;
    if (typeof body.enable_ssl_verification === 'boolean') hook.enable_ssl_verification = body.enable_ssl_verification;
    if (typeof body.token === 'string') hook.token = body.token;
    if (options.signingTokens && typeof body.signing_token === 'string') hook.signing_token = body.signing_token;
    if (typeof body.url === 'string') hook.url = body.url;
  };

  const api = startFakeApi('private-token', (request, url) => {
    const grant = request.auth === null ? undefined : options.tokens[request.auth];
    if (!grant) return json({ message: '401 Unauthorized' }, 401);
    const match = /^\/api\/v4\/(projects|groups)\/([^/]+)\/hooks(?:\/(\d+))?$/.exec(url.pathname);
    if (!match) return json({ error: '404 Not Found' }, 404);
    const scope = `${match[1]}/${decodeURIComponent(match[2]!)}`;
    if (grant.maintainer && !grant.maintainer.includes(scope)) return json({ message: '403 Forbidden' }, 403);
    const hooks = store.get(scope) ?? [];
    store.set(scope, hooks);
    if (match[3] === undefined) {
      if (request.method === 'GET') {
        return page(url, hooks.map((hook) => wire(hook, scope)), 'per_page', 20, 100, (current, size, pages) => ({
          'X-Page': String(current),
          'X-Per-Page': String(size),
          'X-Total': String(hooks.length),
          'X-Total-Pages': String(pages),
          'X-Next-Page': current < pages ? String(current + 1) : '',
          'X-Prev-Page': current > 1 ? String(current - 1) : '',
        }));
      }
      if (request.method !== 'POST') return json({ error: '405 Method Not Allowed' }, 405);
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body.url !== 'string') return json({ error: 'url is missing' }, 400);
      const hook: GitLabHookRecord = { id: nextId++, url: body.url, flags: { push_events: true }, enable_ssl_verification: true };
      fields(body, hook);
      hooks.push(hook);
      return json(wire(hook, scope), 201);
    }
    const hook = hooks.find((candidate) => candidate.id === Number(match[3]));
    if (!hook) return json({ message: '404 Not found' }, 404);
    if (request.method === 'DELETE') {
      hooks.splice(hooks.indexOf(hook), 1);
      return new Response(null, { status: 204 });
    }
    if (request.method !== 'PUT') return json({ error: '405 Method Not Allowed' }, 405);
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body.url !== 'string') return json({ error: 'url is missing' }, 400);
    fields(body, hook);
    return json(wire(hook, scope));
  });

  return {
    ...api,
    hooks: (scope) => store.get(scope) ?? [],
    seed(scope, hooks) {
      store.set(scope, [...(store.get(scope) ?? []), ...hooks.map((hook) => ({ ...structuredClone(hook), id: nextId++ }))]);
    },
  };
}
