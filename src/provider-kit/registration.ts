/**
 * The registration contract: what `fluxgate register` (src/register) needs of a Git host whose API keeps webhooks.
 * A built-in provider type whose host has one exports a `Registration` from its folder (plugins/<type>/index.ts):
 * a declarative spec — where hooks live, the default API, how the provider's event names become the host's hook
 * events — that the config rules read, and the client of the host's hooks API (the HookHost of hook-host.ts).
 */
import type { RegisterConfig } from '../config/index.ts';
import type { HookHost, HostFetch } from './hook-host.ts';

/** The keys of `providers[].register` that say where hooks go. */
export type ScopeKey = keyof Pick<RegisterConfig, 'repositories' | 'organization' | 'projects' | 'groups'>;

export interface HostSpec {
  /** The host's name in messages. */
  title: string;
  /** The keys of `register` that say where hooks go, in the order they are visited. */
  scopeKeys: readonly ScopeKey[];
  /** The API when `register.apiUrl` is not set; undefined: it must be set (self-hosted only). */
  defaultApiUrl?: string;
  /** An API address to show when `register.apiUrl` must be set, e.g. `https://gitea.example.com/api/v1`. */
  exampleApiUrl: string;
  /**
   * The host repositories are cloned from, given its API root (`repositories: discovered` keeps those on it);
   * absent: the API's own host.
   */
  webHost?(apiUrl: string): string;
  /**
   * The host's hook event for one of the provider's configured events: a name, `null` for an event the host sends
   * without subscribing (GitHub's `ping`, GitLab's system hooks), or undefined when the host has no such hook event.
   */
  hookEvent(event: string): string | null | undefined;
}

export interface HookClientOptions {
  /** The API root as configured (`register.apiUrl`), or the spec's default. */
  apiUrl: string;
  token: string;
  send: HostFetch;
}

/** How `fluxgate register` keeps the webhooks of one provider type on its host. */
export interface Registration {
  spec: HostSpec;
  /**
   * The client of the host's hooks API for one token. Its module (and the libraries it uses) is imported here, on
   * first use, so that serving without registering never loads it.
   */
  client(options: HookClientOptions): Promise<HookHost>;
}

/**
 * The hook event of a host that names hook events as its deliveries' event header does (GitHub, Gitea): lower-case
 * words; anything else is no hook event.
 *
 * @example headerHookEvent('pull_request'); // 'pull_request'
 */
export function headerHookEvent(event: string): string | undefined {
  return /^[a-z][a-z_]*$/.test(event) ? event : undefined;
}

/**
 * The host's hook events for a provider's events (sorted, without duplicates), and the events the host has no hook
 * event for.
 *
 * @example
 * hookEventsFor(github.spec, ['push', 'ping']); // { events: ['push'], unknown: [] }
 * hookEventsFor(gitlab.spec, ['Push Hook', 'Tag Push Hook']); // { events: ['push_events', 'tag_push_events'], unknown: [] }
 */
export function hookEventsFor(spec: HostSpec, events: readonly string[]): { events: string[]; unknown: string[] } {
  const mapped = new Set<string>();
  const unknown: string[] = [];
  for (const event of events) {
    const name = spec.hookEvent(event);
    if (name === undefined) unknown.push(event);
    else if (name !== null) mapped.add(name);
  }
  return { events: [...mapped].sort(), unknown };
}
