/**
 * GitHub's (and GitHub Enterprise Server's) repository and organization webhooks through its REST API:
 * list, create (`name: web`, JSON, `insecure_ssl: "0"`), update and delete. Events and `active` are changed with
 * `PATCH …/hooks/:id`; content type, TLS verification and the secret with `PATCH …/hooks/:id/config`, which changes
 * only the keys it is sent (the former would drop the secret unless it is sent again).
 */
import { commonAdvice, HostError } from '../../src/provider-kit/index.ts';
import type { FieldChange, HookClientOptions, HookHost, HostHook, Scope } from '../../src/provider-kit/index.ts';
import { githubApi } from './rest-api.ts';

interface GitHubHook {
  id: number;
  name?: string;
  active?: boolean;
  events?: string[];
  config?: { url?: string; content_type?: string; insecure_ssl?: string | number; secret?: string };
}

function hooksPath(scope: Scope): string {
  if (scope.kind === 'organization') return `/orgs/${encodeURIComponent(scope.name)}/hooks`;
  const [owner, repo] = scope.name.split('/');
  return `/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(repo!)}/hooks`;
}

function toHostHook(hook: GitHubHook): HostHook {
  const config = hook.config ?? {};
  return {
    id: hook.id,
    url: config.url ?? '',
    events: [...(hook.events ?? [])].sort(),
    contentType: config.content_type,
    active: hook.active,
    tlsVerification: config.insecure_ssl === undefined ? undefined : String(config.insecure_ssl) === '0',
    // GitHub shows a set secret as "********"; whether it leaves the key out when none is set is not documented,
    // so only a shown secret counts as known.
    secretSet: config.secret ? true : undefined,
  };
}

/**
 * @example
 * const github = githubHost({ apiUrl: 'https://api.github.com', token, send });
 * const hooks = await github.list({ kind: 'repository', name: 'acme/app' });
 */
export function githubHost(options: HookClientOptions): HookHost {
  const api = githubApi(options);
  return {
    async list(scope) {
      const hooks = await api.list<GitHubHook>(hooksPath(scope));
      // Other names are the retired GitHub Services, not webhooks.
      return hooks.filter((hook) => (hook.name ?? 'web') === 'web').map(toHostHook);
    },
    async create(scope, wanted) {
      const config = { url: wanted.url, content_type: 'json', insecure_ssl: '0', ...(wanted.secret ? { secret: wanted.secret } : {}) };
      await api.send('POST', hooksPath(scope), { name: 'web', active: true, events: wanted.events, config });
      return undefined;
    },
    async update(scope, hook, wanted, fields) {
      const path = `${hooksPath(scope)}/${hook.id}`;
      const has = (field: FieldChange['field']) => fields.includes(field);
      if (has('events') || has('active')) await api.send('PATCH', path, { ...(has('events') ? { events: wanted.events } : {}), ...(has('active') ? { active: true } : {}) });
      if (has('content_type') || has('tls_verification') || has('secret')) {
        await api.send('PATCH', `${path}/config`, {
          ...(has('content_type') ? { content_type: 'json' } : {}),
          ...(has('tls_verification') ? { insecure_ssl: '0' } : {}),
          ...(has('secret') && wanted.secret ? { secret: wanted.secret } : {}),
        });
      }
      return undefined;
    },
    async remove(scope, hook) {
      await api.send('DELETE', `${hooksPath(scope)}/${hook.id}`);
    },
    explain(error, scope) {
      const common = commonAdvice(error, 'GitHub', options.apiUrl);
      if (common !== undefined || !(error instanceof HostError)) return common!;
      const said = error.hostMessage ? ` (${error.hostMessage})` : '';
      const repository = scope.kind === 'repository';
      const has = error.headers.get('x-oauth-scopes');
      const classic = `the ${repository ? 'admin:repo_hook' : 'admin:org_hook'} scope (classic token${has !== null ? `; this one has ${has.trim() || 'none'}` : ''})`;
      const fineGrained = `the ${repository ? 'repository' : 'organization'} permission "Webhooks: read and write" (fine-grained token)`;
      const owner = repository ? `a user with admin rights on ${scope.name}` : `an owner of ${scope.name}`;
      const absent = error.status === 404 ? `; or ${scope.kind} ${scope.name} does not exist` : '';
      return `GitHub answered ${error.status}${said} for ${scope.kind} ${scope.name}: the token needs ${classic} or ${fineGrained}, and must belong to ${owner}${absent}`;
    },
  };
}
