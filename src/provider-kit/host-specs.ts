/**
 * What `fluxgate register` knows of each host, declaratively: which provider type it serves, where it registers
 * (the scope keys of `providers[].register`), its default API and how the provider's event names become the host's
 * hook events. The config rules read this table; the host clients (github.ts, gitlab.ts, gitea.ts) implement it.
 */
import type { RegisterConfig } from '../config/index.ts';

export type HostKind = 'github' | 'gitlab' | 'gitea';
export type ScopeKey = keyof Pick<RegisterConfig, 'repositories' | 'organization' | 'projects' | 'groups'>;

export interface HostSpec {
  kind: HostKind;
  /** The host's name in messages. */
  title: string;
  /** The keys of `register` that say where hooks go, in the order they are visited. */
  scopeKeys: readonly ScopeKey[];
  /** The API when `register.apiUrl` is not set; undefined: it must be set (self-hosted only). */
  defaultApiUrl?: string;
  /**
   * The host's hook event for one of the provider's configured events: a name, `null` for an event the host sends
   * without subscribing (GitHub's `ping`, GitLab's system hooks), or undefined when the host has no such hook event.
   */
  hookEvent(event: string): string | null | undefined;
}

/** GitLab's `X-Gitlab-Event` names and the hook flag that subscribes to each. */
export const GITLAB_EVENT_FLAGS: Readonly<Record<string, string>> = {
  'Push Hook': 'push_events',
  'Tag Push Hook': 'tag_push_events',
  'Merge Request Hook': 'merge_requests_events',
  'Issue Hook': 'issues_events',
  'Note Hook': 'note_events',
  'Pipeline Hook': 'pipeline_events',
  'Job Hook': 'job_events',
  'Wiki Page Hook': 'wiki_page_events',
  'Deployment Hook': 'deployment_events',
  'Release Hook': 'releases_events',
};

/** GitHub and Gitea name hook events as their deliveries' event header does: lower-case words. */
const sameName = (event: string) => (/^[a-z][a-z_]*$/.test(event) ? event : undefined);

export const HOST_SPECS: Readonly<Record<HostKind, HostSpec>> = {
  github: {
    kind: 'github',
    title: 'GitHub',
    scopeKeys: ['repositories', 'organization'],
    defaultApiUrl: 'https://api.github.com',
    hookEvent: (event) => (event === 'ping' ? null : sameName(event)),
  },
  gitlab: {
    kind: 'gitlab',
    title: 'GitLab',
    scopeKeys: ['projects', 'groups'],
    defaultApiUrl: 'https://gitlab.com',
    hookEvent: (event) => (event === 'System Hook' ? null : GITLAB_EVENT_FLAGS[event]),
  },
  gitea: {
    kind: 'gitea',
    title: 'Gitea',
    scopeKeys: ['repositories', 'organization'],
    hookEvent: sameName,
  },
};

/**
 * The host a provider type registers on, if any.
 *
 * @example
 * hostSpecOf('gitlab')?.scopeKeys; // ['projects', 'groups']
 * hostSpecOf('harbor'); // undefined
 */
export function hostSpecOf(type: string): HostSpec | undefined {
  return Object.hasOwn(HOST_SPECS, type) ? HOST_SPECS[type as HostKind] : undefined;
}

/**
 * The host's hook events for a provider's events (sorted, without duplicates), and the events the host has no hook
 * event for.
 *
 * @example
 * hookEventsFor(HOST_SPECS.github, ['push', 'ping']); // { events: ['push'], unknown: [] }
 * hookEventsFor(HOST_SPECS.gitlab, ['Push Hook', 'Tag Push Hook']); // { events: ['push_events', 'tag_push_events'], unknown: [] }
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
