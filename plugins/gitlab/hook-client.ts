/**
 * GitLab's project and group hooks through `@gitbeaker/rest` (`ProjectHooks`, `GroupHooks`: all, add, edit,
 * remove). Gitbeaker builds the paths and follows `Link` pagination; its requests go through fluxgate's requester
 * (the `requesterFn` extension point) so that rate limits are waited out as GitLab's headers ask, on the injected
 * clock, instead of gitbeaker's own fixed backoff. The secret is the hook's `token`; the signing token is
 * `signing_token`, which GitLab accepts on create and update only where its signed-webhooks feature is on — and
 * says so in `signing_token_present`.
 */
import { GroupHooks, ProjectHooks } from '@gitbeaker/rest';
import { commonAdvice, HostError, hostError } from '../../src/provider-kit/index.ts';
import type { FieldChange, HookClientOptions, HookHost, HostFetch, HostHook, Scope, WantedHook } from '../../src/provider-kit/index.ts';
import { GITLAB_EVENT_FLAGS } from './hook-events.ts';

type RequesterFn = NonNullable<ConstructorParameters<typeof ProjectHooks>[0]['requesterFn']>;
type GitLabHook = Record<string, unknown> & { id: number; url: string };

/** Every event flag fluxgate manages: set on (wanted) or off (not wanted), so a hook subscribes to exactly the config's events. */
const FLAGS = [...new Set(Object.values(GITLAB_EVENT_FLAGS))].sort();
const PER_PAGE = 100;
const MAX_PAGES = 100;

const snake = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * Gitbeaker's requester, on fluxgate's HostFetch: JSON bodies, snake_case query keys (gitbeaker hands them
 * camelCased), failures as HostError.
 */
export function requesterOn(send: HostFetch): RequesterFn {
  return (service) => {
    const call = (method: string) => async (endpoint: string, options: { body?: unknown; searchParams?: Record<string, unknown> } = {}) => {
      const url = new URL(endpoint, service.url.endsWith('/') ? service.url : `${service.url}/`);
      for (const [key, value] of Object.entries(options.searchParams ?? {})) if (value !== undefined) url.searchParams.set(snake(key), String(value));
      const headers: Record<string, string> = { ...service.headers, Accept: 'application/json' };
      for (const [name, value] of Object.entries(service.authHeaders)) headers[name] = await value();
      let body: string | undefined;
      if (options.body !== undefined) {
        body = JSON.stringify(Object.fromEntries(Object.entries(options.body as Record<string, unknown>).map(([key, value]) => [snake(key), value])));
        headers['Content-Type'] = 'application/json';
      }
      const response = await send(new Request(url.href, { method, headers, body }));
      if (!response.ok) throw await hostError(response, `${method} ${url.pathname}`);
      const text = await response.text();
      return { body: text === '' ? null : JSON.parse(text), headers: Object.fromEntries(response.headers), status: response.status };
    };
    return { get: call('GET'), post: call('POST'), put: call('PUT'), patch: call('PATCH'), delete: call('DELETE') } as ReturnType<RequesterFn>;
  };
}

function toHostHook(hook: GitLabHook): HostHook {
  return {
    id: hook.id,
    url: hook.url,
    events: FLAGS.filter((flag) => hook[flag] === true),
    tlsVerification: typeof hook.enable_ssl_verification === 'boolean' ? hook.enable_ssl_verification : undefined,
    // Newer GitLab says whether a token is set; older ones do not, and then it is not compared.
    secretSet: typeof hook.token_present === 'boolean' ? hook.token_present : undefined,
    signingSecretSet: typeof hook.signing_token_present === 'boolean' ? hook.signing_token_present : undefined,
  };
}

/** The server's root: gitbeaker adds `/api/v4` itself. */
export function hostRoot(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '').replace(/\/api\/v4$/, '');
}

/**
 * @example
 * const gitlab = gitlabHost({ apiUrl: 'https://gitlab.example.com', token, send });
 * const hooks = await gitlab.list({ kind: 'group', name: 'platform' });
 */
export function gitlabHost(options: HookClientOptions): HookHost {
  const settings = { host: hostRoot(options.apiUrl), token: options.token, requesterFn: requesterOn(options.send), queryTimeout: null };
  const projects = new ProjectHooks(settings);
  const groups = new GroupHooks(settings);
  const hooksOf = (scope: Scope) => (scope.kind === 'group' ? groups : projects);
  // Numeric ids go as numbers, paths as paths (gitbeaker encodes them).
  const idOf = (scope: Scope) => (/^[0-9]+$/.test(scope.name) ? Number(scope.name) : scope.name);

  /** The signing token did not stick: this GitLab does not support it (or has the feature off). */
  function signingNote(sent: WantedHook, answer: unknown): string | undefined {
    if (!sent.signingSecret || (answer as Record<string, unknown> | null)?.signing_token_present === true) return undefined;
    return 'GitLab did not confirm the signing token (no signing_token_present): this GitLab does not support signed webhooks or has them off, so the hook is checked by its token only';
  }

  return {
    async list(scope) {
      const hooks = (await hooksOf(scope).all(idOf(scope), { perPage: PER_PAGE, maxPages: MAX_PAGES })) as unknown as GitLabHook[];
      if (hooks.length >= PER_PAGE * MAX_PAGES) throw new HostError(0, `GET ${scope.kind} ${scope.name} hooks`, `more than ${PER_PAGE * MAX_PAGES} hooks: fluxgate reads at most ${MAX_PAGES} pages`);
      return hooks.map(toHostHook);
    },
    async create(scope, wanted) {
      const flags = Object.fromEntries(FLAGS.map((flag) => [flag, wanted.events.includes(flag)]));
      const answer = await hooksOf(scope).add(idOf(scope), wanted.url, {
        ...flags,
        enable_ssl_verification: true,
        ...(wanted.secret ? { token: wanted.secret } : {}),
        ...(wanted.signingSecret ? { signing_token: wanted.signingSecret } : {}),
      } as object);
      return signingNote(wanted, answer);
    },
    async update(scope, hook, wanted, fields) {
      const has = (field: FieldChange['field']) => fields.includes(field);
      const flags = has('events') ? Object.fromEntries(FLAGS.filter((flag) => hook.events.includes(flag) !== wanted.events.includes(flag)).map((flag) => [flag, wanted.events.includes(flag)])) : {};
      const sentSigning = has('signing_secret') ? wanted : { ...wanted, signingSecret: undefined };
      const answer = await hooksOf(scope).edit(idOf(scope), hook.id, wanted.url, {
        ...flags,
        ...(has('tls_verification') ? { enable_ssl_verification: true } : {}),
        ...(has('secret') && wanted.secret ? { token: wanted.secret } : {}),
        ...(has('signing_secret') && wanted.signingSecret ? { signing_token: wanted.signingSecret } : {}),
      } as object);
      return signingNote(sentSigning, answer);
    },
    async remove(scope, hook) {
      await hooksOf(scope).remove(idOf(scope), hook.id);
    },
    explain(error, scope) {
      const common = commonAdvice(error, 'GitLab', options.apiUrl);
      if (common !== undefined || !(error instanceof HostError)) return common!;
      const said = error.hostMessage ? ` (${error.hostMessage})` : '';
      const role = scope.kind === 'group' ? 'the Owner role on the group' : 'the Maintainer role (or Owner) on the project';
      const missing =
        error.status === 404
          ? `; or ${scope.kind} ${scope.name} does not exist or is not visible to the token${scope.kind === 'group' ? ' (group hooks also need GitLab Premium or Ultimate)' : ''}`
          : '';
      return `GitLab answered ${error.status}${said} for ${scope.kind} ${scope.name}: managing its hooks needs a token with the api scope, from a user with ${role}${missing}`;
    },
  };
}
