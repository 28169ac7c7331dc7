/**
 * fluxgate's own payload shape, for CI jobs, scripts and hosts without a provider of their own (the `generic`
 * and `generic-hmac` types, and the body a CI job may add to its OIDC token):
 * ```jsonc
 * {
 *   "repository": "your-org/your-repo",   // required: a slug or URL (https, ssh, scp-style), or an array of them
 *   "ref": "refs/heads/main",             // optional full ref; refs/heads/* sets branch, refs/tags/* sets tag
 *   "branch": "main",                     // optional, instead of ref (must agree with ref if both are given)
 *   "tag": "v1.2.0",                      // optional, instead of ref (not together with branch)
 *   "commit": "3f2a9c0…",                 // optional commit SHA or digest
 *   "paths": ["apps/web/deploy.yaml"],    // optional changed paths; omitted = unknown, so path filters pass
 *   "deleted": false                      // optional, true when the ref was deleted
 * }
 * ```
 * GitHub-style push payloads are accepted too: `repository` as an object (`full_name`, `html_url`, `clone_url`,
 * `ssh_url`, `git_url`, `url`), `after` as the commit and `commits[]` with `added`/`modified`/`removed`.
 */
import { PayloadError, type Event } from './contract.ts';
import { changedPaths, isZeroId, ref as refParts, refOf } from './git.ts';
import { payloadLimits, read, repositoryNames, type PayloadReader } from './payload.ts';

const REPOSITORY_FIELDS = ['full_name', 'html_url', 'clone_url', 'ssh_url', 'git_url', 'url'];

function repositoriesOf(payload: PayloadReader): string[] {
  const names = repositoryNames('repository');
  const value = payload.value.repository;
  if (typeof value === 'string') names.add(value);
  else if (Array.isArray(value)) {
    // One pass; more than the capped number of distinct names is refused as it is reached.
    for (const item of value) {
      if (typeof item !== 'string') throw new PayloadError('repository array holds a non-string');
      names.add(item);
    }
  } else if (value !== undefined && value !== null && typeof value === 'object') names.add(...payload.object('repository').strings(...REPOSITORY_FIELDS));
  else if (value === undefined || value === null) throw new PayloadError('payload has no repository');
  else throw new PayloadError('repository is not a string, array or object');
  const found = names.list();
  if (found.length === 0) throw new PayloadError('repository is empty');
  return found;
}

function refOfPayload(payload: PayloadReader): { ref?: string; branch?: string; tag?: string } {
  const full = payload.optionalString('ref');
  const branch = payload.optionalString('branch');
  const tag = payload.optionalString('tag');
  if (branch !== undefined && tag !== undefined) throw new PayloadError('give branch or tag, not both');
  if (full === undefined) return branch !== undefined ? refOf('branch', branch) : tag !== undefined ? refOf('tag', tag) : {};
  if (!full.startsWith('refs/')) throw new PayloadError('ref must be a full ref such as refs/heads/main (or use branch/tag)');
  const parts = refParts(full);
  if (branch !== undefined && branch !== parts.branch) throw new PayloadError('branch and ref disagree');
  if (tag !== undefined && tag !== parts.tag) throw new PayloadError('tag and ref disagree');
  return parts;
}

function pathsOf(payload: PayloadReader): string[] | undefined {
  if (payload.has('paths')) {
    const paths = payload.value.paths;
    if (!Array.isArray(paths)) throw new PayloadError('paths is not an array');
    const distinct = new Set<string>();
    for (const path of paths) {
      if (typeof path !== 'string') throw new PayloadError('paths holds a non-string');
      distinct.add(path);
      // Beyond the cap the changes are unknown, as for a cut commit list; the rest is not read.
      if (distinct.size > payloadLimits.changedPaths) return undefined;
    }
    return [...distinct];
  }
  const commits = payload.has('commits') ? payload.value.commits : undefined;
  if (commits === undefined) return undefined;
  if (!Array.isArray(commits)) throw new PayloadError('commits is not an array');
  return changedPaths(commits, { label: 'commits', complete: commits.length < payloadLimits.commits });
}

/**
 * The one event a generic payload describes.
 * @example genericEvent(kit.json(request.body), 'push') // { event: 'push', repositories: ['org/app'], ref: 'refs/heads/main', branch: 'main', … }
 */
export function genericEvent(body: unknown, event: string): Event {
  const payload = read(body);
  const result: Event = { event, repositories: repositoriesOf(payload), ...refOfPayload(payload) };
  const deleted = payload.optionalBoolean('deleted');
  const after = payload.optionalString('after');
  if (deleted === true || isZeroId(after)) return { ...result, deleted: true };
  const commit = payload.optionalString('commit') ?? after;
  return { ...result, ...(commit !== undefined ? { commit } : {}), ...(deleted === false ? { deleted: false } : {}), changedPaths: pathsOf(payload) };
}
