/**
 * `register: { repositories: discovered }` (or `projects:` on GitLab): the repositories to keep a webhook on are
 * those the cluster's Flux sources and Argo CD Applications point at, on this host — every GitRepository's
 * `spec.url` and every Application source's `repoURL` whose host is the host's web address, read once from each
 * cluster (the same LIST discovery's watches start with).
 */
import { normalizeRepository } from '../pipeline/index.ts';
import type { WatchedObject } from '../kube/index.ts';
import type { Scope } from './hook-host.ts';
import type { HostSpec } from '../provider-kit/index.ts';

/** The host repositories are cloned from, given its API root: `api.github.com` → `github.com`, else the API's own host. */
export function webHostOf(apiUrl: string): string {
  const host = new URL(apiUrl).hostname.toLowerCase();
  return host === 'api.github.com' ? 'github.com' : host;
}

/** Every repository URL an object names: a GitRepository's `spec.url`, an Application's sources' `repoURL`. */
function urlsOf(object: WatchedObject): string[] {
  const spec = object.spec ?? {};
  if (object.kind === 'GitRepository') return typeof spec.url === 'string' ? [spec.url] : [];
  if (object.kind === 'Application') {
    const sources = [spec.source, ...(Array.isArray(spec.sources) ? spec.sources : [])];
    return sources.flatMap((source) => (typeof source?.repoURL === 'string' ? [source.repoURL] : []));
  }
  return [];
}

/**
 * The scopes (repositories, or GitLab projects) on `apiUrl`'s host that the objects point at, sorted and each once.
 *
 * @example
 * discoveredScopes(listed, githubSpec, 'https://api.github.com'); // [{ kind: 'repository', name: 'acme/app' }, …]
 */
export function discoveredScopes(objects: readonly WatchedObject[], spec: HostSpec, apiUrl: string): Scope[] {
  const host = webHostOf(apiUrl);
  const names = new Set<string>();
  for (const object of objects) {
    for (const url of urlsOf(object)) {
      const repository = normalizeRepository(url);
      if (repository.host !== host || repository.path === '') continue;
      // GitHub and Gitea repositories are owner/name; a GitLab project may sit in subgroups.
      if (spec.kind !== 'gitlab' && repository.path.split('/').length !== 2) continue;
      names.add(repository.path);
    }
  }
  return [...names].sort().map((name) => ({ kind: spec.kind === 'gitlab' ? 'project' : 'repository', name }));
}
