/**
 * Gitea's and Forgejo's repository and organization webhooks through their REST API (`Authorization: token …`).
 * Two limits of that API shape what fluxgate does: an edit always rewrites the event list (so it is always sent) and
 * the branch filter (so the hook's own is sent back); and an edit cannot change the secret, so `--rotate-secret`
 * deletes the hook and creates it again. Gitea checks the certificate of every hook alike (its SKIP_TLS_VERIFY
 * setting): there is no per-hook TLS field to compare.
 */
import { commonAdvice, HostError } from '../../src/provider-kit/index.ts';
import type { HookClientOptions, HookHost, HostHook, Scope, WantedHook } from '../../src/provider-kit/index.ts';
import { giteaApi } from './rest-api.ts';

interface GiteaHook {
  id: number;
  type?: string;
  active?: boolean;
  events?: string[];
  branch_filter?: string;
  config?: { url?: string; content_type?: string };
}

function hooksPath(scope: Scope): string {
  if (scope.kind === 'organization') return `/orgs/${encodeURIComponent(scope.name)}/hooks`;
  const [owner, repo] = scope.name.split('/');
  return `/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(repo!)}/hooks`;
}

function toHostHook(hook: GiteaHook): HostHook {
  return { id: hook.id, url: hook.config?.url ?? '', events: [...(hook.events ?? [])].sort(), contentType: hook.config?.content_type, active: hook.active, branchFilter: hook.branch_filter };
}

/**
 * @example
 * const gitea = giteaHost({ apiUrl: 'https://gitea.example.com', token, send });
 * await gitea.create({ kind: 'repository', name: 'acme/app' }, wanted);
 */
export function giteaHost(options: HookClientOptions): HookHost {
  const api = giteaApi(options);
  async function create(scope: Scope, wanted: WantedHook): Promise<GiteaHook> {
    const config = { url: wanted.url, content_type: 'json', ...(wanted.secret ? { secret: wanted.secret } : {}) };
    return api.send<GiteaHook>('POST', hooksPath(scope), { type: 'gitea', active: true, events: wanted.events, config });
  }
  return {
    async list(scope) {
      return (await api.list<GiteaHook>(hooksPath(scope))).map(toHostHook);
    },
    async create(scope, wanted) {
      await create(scope, wanted);
      return undefined;
    },
    async update(scope, hook, wanted, fields) {
      if (fields.includes('secret')) {
        // The edit API ignores `secret`: the only way to a new secret is a new hook.
        await api.send('DELETE', `${hooksPath(scope)}/${hook.id}`);
        const created = await create(scope, wanted);
        return `Gitea cannot change a hook's secret: hook ${hook.id} was deleted and created again as ${created?.id ?? 'a new hook'}`;
      }
      await api.send('PATCH', `${hooksPath(scope)}/${hook.id}`, {
        events: wanted.events,
        branch_filter: hook.branchFilter ?? '',
        ...(fields.includes('content_type') ? { config: { url: wanted.url, content_type: 'json' } } : {}),
        ...(fields.includes('active') ? { active: true } : {}),
      });
      return undefined;
    },
    async remove(scope, hook) {
      await api.send('DELETE', `${hooksPath(scope)}/${hook.id}`);
    },
    explain(error, scope) {
      const common = commonAdvice(error, 'Gitea', options.apiUrl);
      if (common !== undefined || !(error instanceof HostError)) return common!;
      const said = error.hostMessage ? ` (${error.hostMessage})` : '';
      const repository = scope.kind === 'repository';
      const needs = repository
        ? `a token with the write:repository scope, from a user with admin rights on ${scope.name}`
        : `a token with the write:organization scope, from an owner of ${scope.name}`;
      return `Gitea answered ${error.status}${said} for ${scope.kind} ${scope.name}: hooks need ${needs}${error.status === 404 ? `; or ${scope.kind} ${scope.name} does not exist` : ''}`;
    },
  };
}
