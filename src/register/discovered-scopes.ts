/**
 * `register: { repositories: discovered }` (or `projects:` on GitLab): the repositories to keep a webhook on are
 * those the cluster's Flux sources and Argo CD Applications point at, on this host — every GitRepository's
 * `spec.url` and every Application source's `repoURL` whose host is the host's web address, read once from each
 * cluster (the same LIST discovery's watches start with).
 */
import { normalizeRepository } from '../pipeline/index.ts';
import type { WatchedObject } from '../kube/index.ts';
import type { Scope } from '../provider-kit/index.ts';
import { SCOPE_KINDS, type RegisterJob } from './jobs.ts';

/** The host repositories are cloned from, given its API root: as the host's spec says, else the API's own host. */
function webHostOf(job: Pick<RegisterJob, 'registration' | 'apiUrl'>): string {
  return job.registration.spec.webHost?.(job.apiUrl) ?? new URL(job.apiUrl).hostname.toLowerCase();
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
 * The scopes (repositories, or GitLab projects) of the job's `discovered` key on its API's host that the objects
 * point at, sorted and each once.
 *
 * @example
 * discoveredScopes(listed, githubJob); // [{ kind: 'repository', name: 'acme/app' }, …]
 */
export function discoveredScopes(objects: readonly WatchedObject[], job: Pick<RegisterJob, 'discovered' | 'registration' | 'apiUrl'>): Scope[] {
  const host = webHostOf(job);
  const kind = SCOPE_KINDS[job.discovered ?? 'repositories'];
  const names = new Set<string>();
  for (const object of objects) {
    for (const url of urlsOf(object)) {
      const repository = normalizeRepository(url);
      if (repository.host !== host || repository.path === '') continue;
      // A repository is owner/name; a project (GitLab) may sit in subgroups.
      if (kind === 'repository' && repository.path.split('/').length !== 2) continue;
      names.add(repository.path);
    }
  }
  return [...names].sort().map((name) => ({ kind, name }));
}
