/**
 * What `register` has to do, read from the config: for each provider with a `register` block, the host, its API,
 * the token, the scopes, and the hook it wants there (URL = `server.publicUrl` + the provider's route, the
 * provider's secrets, its events as the host names them). Secrets and tokens are resolved here, and a placeholder
 * is refused: a hook registered with a public secret could be sent by anyone.
 */
import { isPlaceholderSecret } from '../config/index.ts';
import { routeOf } from '../config/index.ts';
import type { RuleIssue } from '../config/index.ts';
import type { Config, ProviderConfig, SecretRef } from '../config/index.ts';
import { resolveSecret, secretOrigin, type SecretSources } from '../config/index.ts';
import type { Catalog, ProviderCodec } from '../provider-kit/index.ts';
import { hookEventsFor, type HostSpec, type Registration, type Scope, type WantedHook } from '../provider-kit/index.ts';

export interface RegisterJob {
  provider: string;
  /** The provider's type, whose host keeps the hook (`github`, `gitlab`, `gitea`). */
  host: string;
  /** The scope key given as `discovered`: its scopes come from the discovered Flux sources (discovered-scopes.ts). */
  discovered?: 'repositories' | 'projects';
  /** The host's spec and API client, from the type's folder (plugins/<type>/registration.ts). */
  registration: Registration;
  /** The API root as configured (or the host's default). */
  apiUrl: string;
  token: string;
  scopes: Scope[];
  wanted: WantedHook;
}

/** The kind of scope each key of `register` names. */
export const SCOPE_KINDS = { repositories: 'repository', organization: 'organization', projects: 'project', groups: 'group' } as const;

/**
 * The hook URL of a route: `publicUrl` (any trailing slash dropped) followed by the route.
 *
 * @example
 * hookUrl('https://fluxgate.example.com/', '/hook/github'); // 'https://fluxgate.example.com/hook/github'
 */
export function hookUrl(publicUrl: string, route: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${route}`;
}

/** Every route lives under `/hook/`: a hook whose URL starts with this points at this gateway. */
export function gatewayPrefix(publicUrl: string): string {
  return hookUrl(publicUrl, '/hook/');
}

function scopesOf(spec: HostSpec, register: NonNullable<ProviderConfig['register']>): Scope[] {
  return spec.scopeKeys.flatMap((key) => {
    const value = register[key];
    if (value === undefined || value === 'discovered') return [];
    return (Array.isArray(value) ? value : [value]).map((name) => ({ kind: SCOPE_KINDS[key], name: String(name) }));
  });
}

/** Resolves one secret reference for `register`, or records why it cannot be used (a placeholder would be sent to the host). */
function secretResolver(sources: SecretSources, title: string, problems: RuleIssue[]) {
  return (ref: SecretRef | undefined, path: (string | number)[], what: string): string | undefined => {
    if (ref === undefined) return undefined;
    try {
      const value = resolveSecret(ref, sources);
      if (!isPlaceholderSecret(value)) return value;
      const origin = secretOrigin(ref);
      problems.push({ path, message: `${origin.name} holds a placeholder, not a ${what}, and register would send it to ${title}: ${origin.fix}` });
    } catch (error) {
      problems.push({ path, message: (error as Error).message });
    }
    return undefined;
  };
}

/** The job of one provider with a `register` block on a host fluxgate can register on, or undefined (problems recorded). */
function jobOf(config: Config, index: number, codec: ProviderCodec<unknown>, registration: Registration, sources: SecretSources, problems: RuleIssue[]): RegisterJob | undefined {
  const provider = config.providers[index]!;
  const { secretFields } = codec;
  const register = provider.register!;
  const { spec } = registration;
  const resolve = secretResolver(sources, spec.title, problems);
  const token = resolve(register.token, ['providers', index, 'register', 'token'], 'token');
  const secret = secretFields.includes('secret') ? resolve(provider.secret, ['providers', index, 'secret'], 'secret') : undefined;
  const signingSecret = secretFields.includes('signingSecret') ? resolve(provider.signingSecret, ['providers', index, 'signingSecret'], 'secret') : undefined;
  if (token === undefined || (provider.secret && secret === undefined) || (provider.signingSecret && signingSecret === undefined)) return undefined;
  const discovered = register.repositories === 'discovered' ? 'repositories' : register.projects === 'discovered' ? 'projects' : undefined;
  return {
    provider: provider.name,
    host: provider.type,
    ...(discovered ? { discovered } : {}),
    registration,
    apiUrl: register.apiUrl ?? spec.defaultApiUrl!,
    token,
    scopes: scopesOf(spec, register),
    wanted: {
      provider: provider.name,
      url: hookUrl(config.server.publicUrl!, routeOf(provider)),
      events: hookEventsFor(spec, provider.events ?? codec.defaultEvents).events,
      ...(secret !== undefined ? { secret } : {}),
      ...(signingSecret !== undefined ? { signingSecret } : {}),
    },
  };
}

/**
 * The jobs of the providers `select` picks (all with a `register` block by default), or the problems that stop
 * them, at their config paths: a secret or token that does not resolve or is a placeholder. Run after the config
 * rules, which already checked the block's shape for its host.
 *
 * @example
 * const { jobs, problems } = registerJobs(config, catalog, { env: process.env, readFile });
 */
export function registerJobs(config: Config, catalog: Catalog, sources: SecretSources, select: (provider: ProviderConfig) => boolean = () => true): { jobs: RegisterJob[]; problems: RuleIssue[] } {
  const jobs: RegisterJob[] = [];
  const problems: RuleIssue[] = [];
  config.providers.forEach((provider, index) => {
    const codec = catalog.get(provider.type);
    const registration = catalog.registrations.get(provider.type);
    if (!provider.register || !codec || !registration || !config.server.publicUrl || !select(provider)) return;
    const job = jobOf(config, index, codec, registration, sources, problems);
    if (job) jobs.push(job);
  });
  return { jobs, problems };
}
