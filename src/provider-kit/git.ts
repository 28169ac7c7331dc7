/** Git facts every Git host's payload needs: refs, the all-zero id of a deleted ref, changed paths. */
import { PayloadError, type Event } from './contract.ts';
import { payloadLimits, type PayloadReader } from './payload.ts';

/** The object id Git hosts send as `after` (or `before`) for a deleted (or new) ref. */
export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** Whether `id` is all zeros (SHA-1 or SHA-256 length), i.e. no commit: the ref was deleted or is new. */
export function isZeroId(id: string | undefined): boolean {
  return id !== undefined && id.length >= 40 && /^0+$/.test(id);
}

/**
 * A full ref and what it names.
 * @example ref('refs/heads/release/1.2') // { ref: 'refs/heads/release/1.2', branch: 'release/1.2' }
 * @example ref('refs/tags/v1.0.0')       // { ref: 'refs/tags/v1.0.0', tag: 'v1.0.0' }
 */
export function ref(full: string): { ref: string; branch?: string; tag?: string } {
  if (full.startsWith('refs/heads/')) return { ref: full, branch: full.slice(11) };
  if (full.startsWith('refs/tags/')) return { ref: full, tag: full.slice(10) };
  return { ref: full };
}

/** The full ref of a short branch or tag name (hosts that send `main` with a separate type). */
export function refOf(kind: 'branch' | 'tag', name: string): { ref: string; branch?: string; tag?: string } {
  return ref(`${kind === 'branch' ? 'refs/heads/' : 'refs/tags/'}${name}`);
}

/**
 * The ref of a `create` or `delete` payload (GitHub, Gitea, Gogs): the short `ref` and its `ref_type`.
 * @example typedRef(read({ ref: 'v1.0.0', ref_type: 'tag' })) // { ref: 'refs/tags/v1.0.0', tag: 'v1.0.0' }
 */
export function typedRef(payload: PayloadReader): { ref: string; branch?: string; tag?: string } {
  const kind = payload.string('ref_type');
  if (kind !== 'branch' && kind !== 'tag') throw new PayloadError(`${payload.path ? `${payload.path}.` : ''}ref_type is neither branch nor tag`);
  return refOf(kind, payload.string('ref'));
}

/**
 * The event of a `create` or `delete` payload (GitHub, Gitea, Gogs): its ref, deleted, or at `sha` when created.
 * @example createOrDelete(payload, { event: 'create', repositories }) // { …, ref: 'refs/tags/v1', tag: 'v1', commit: '…' }
 */
export function createOrDelete(payload: PayloadReader, event: { event: string; repositories: string[] }): Event {
  const ref = typedRef(payload);
  if (event.event === 'delete') return { ...event, ...ref, deleted: true };
  const commit = payload.optionalString('sha');
  return { ...event, ...ref, ...(commit !== undefined ? { commit } : {}) };
}

const FILE_LISTS = ['added', 'modified', 'removed'] as const;

/**
 * The paths a push changed: the union of `added`, `modified` and `removed` over `commits` (the shape GitHub,
 * GitLab, Gitea and Gogs share). `undefined` — unknown, so path filters pass — when the host says the list is
 * not `complete` (it caps commit lists), when a commit carries no file lists, or beyond
 * `payloadLimits.commits` commits or `payloadLimits.changedPaths` paths. PayloadError naming `label[i].field`
 * on wrong types.
 *
 * @example changedPaths(payload.list('commits', 2048), { label: 'commits', complete: commits.length < 20 })
 */
export function changedPaths(commits: readonly unknown[], options: { label: string; complete: boolean }): string[] | undefined {
  if (!options.complete || commits.length === 0 || commits.length > payloadLimits.commits) return undefined;
  const paths = new Set<string>();
  for (let index = 0; index < commits.length; index++) {
    const commit = commits[index];
    if (typeof commit !== 'object' || commit === null || Array.isArray(commit)) throw new PayloadError(`${options.label}[${index}] is not an object`);
    let listed = false;
    for (const field of FILE_LISTS) {
      const list = (commit as Record<string, unknown>)[field];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw new PayloadError(`${options.label}[${index}].${field} is not an array`);
      listed = true;
      for (const path of list) {
        if (typeof path !== 'string') throw new PayloadError(`${options.label}[${index}].${field} holds a non-string path`);
        paths.add(path);
        if (paths.size > payloadLimits.changedPaths) return undefined;
      }
    }
    if (!listed) return undefined;
  }
  return [...paths];
}
