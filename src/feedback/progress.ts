/**
 * How far a commit got on one object, read from its status — the rules of following, per role of its kind:
 * - a source (GitRepository, OCIRepository, Bucket, HelmRepository): handled when `lastHandledReconcileAt` is the
 *   requestedAt fluxgate wrote; fetched when `artifact.revision` names the commit; failed when, handled, it is not Ready;
 * - what applies a source (Kustomization, HelmRelease): applied when a revision it applied names the commit and
 *   Ready is True; failed when Ready is False for an attempted revision that names it;
 * - an Argo CD Application: applied when `sync.revision` is the commit and the operation `Succeeded`; failed when the
 *   operation of that revision `Failed` or hit an `Error`; its health is kept beside;
 * - any other kind: handled when `lastHandledReconcileAt` matches.
 */
import { namesCommit } from './revision.ts';
import type { ObjectStatus } from './object-status.ts';

export type Role = 'source' | 'applier' | 'application' | 'other';

const ROLES: Readonly<Record<string, Role>> = {
  GitRepository: 'source',
  OCIRepository: 'source',
  Bucket: 'source',
  HelmRepository: 'source',
  Kustomization: 'applier',
  HelmRelease: 'applier',
  Application: 'application',
};

export function roleOf(kind: string): Role {
  return Object.hasOwn(ROLES, kind) ? ROLES[kind]! : 'other';
}

/** What a follow waits for: the pushed commit, and the requestedAt values fluxgate wrote on the object. */
export interface Wanted {
  commit?: string;
  values: readonly string[];
}

export type ReadStage = 'following' | 'handled' | 'fetched' | 'applied' | 'failed';

export interface Reading {
  stage: ReadStage;
  revision?: string;
  /** A failure's reason and message. */
  detail?: string;
  health?: string;
}

/** The stage that ends the follow: a source is done once fetched, what applies once applied, the rest once handled. */
export function finalStage(role: Role, wanted: Wanted): ReadStage {
  if (wanted.commit === undefined) return 'handled';
  if (role === 'source') return 'fetched';
  return role === 'other' ? 'handled' : 'applied';
}

/** Why an object cannot be followed for `wanted`, or undefined when it can. */
export function unfollowable(role: Role, wanted: Wanted): string | undefined {
  if (wanted.commit === undefined && (role === 'application' || wanted.values.length === 0)) return 'the delivery names no commit and the request has no token to be echoed';
  return undefined;
}

const failure = (reason: string | undefined, message: string | undefined) => [reason, message].filter(Boolean).join(': ') || 'not ready';

/** Where `status` says the object is, for `wanted`. */
export function readProgress(role: Role, status: ObjectStatus | undefined, wanted: Wanted): Reading {
  if (status === undefined) return { stage: 'following' };
  const handled = status.handledAt !== undefined && wanted.values.includes(status.handledAt);
  const { commit } = wanted;
  const ready = status.ready;
  if (role === 'source') {
    if (commit !== undefined && namesCommit(status.artifact, commit)) return { stage: 'fetched', revision: status.artifact! };
    if (handled && ready?.status === 'False') return { stage: 'failed', detail: failure(ready.reason, ready.message), ...(status.artifact ? { revision: status.artifact } : {}) };
    return { stage: handled ? 'handled' : 'following', ...(status.artifact ? { revision: status.artifact } : {}) };
  }
  if (role === 'applier') {
    const applied = status.applied.find((revision) => namesCommit(revision, commit));
    if (applied !== undefined && ready?.status === 'True') return { stage: 'applied', revision: applied };
    const attempted = status.attempted.find((revision) => namesCommit(revision, commit));
    if (attempted !== undefined && ready?.status === 'False') return { stage: 'failed', revision: attempted, detail: failure(ready.reason, ready.message) };
    return { stage: handled ? 'handled' : 'following', ...(status.applied[0] ? { revision: status.applied[0] } : {}) };
  }
  if (role === 'application') return readApplication(status, commit);
  return { stage: handled ? 'handled' : 'following' };
}

function readApplication(status: ObjectStatus, commit: string | undefined): Reading {
  const health = status.health !== undefined ? { health: status.health } : {};
  const operation = status.operation;
  const synced = status.synced.find((revision) => namesCommit(revision, commit));
  const operationOfCommit = operation !== undefined && (operation.revision === undefined || namesCommit(operation.revision, commit));
  if (synced !== undefined && operationOfCommit && operation.phase === 'Succeeded') return { stage: 'applied', revision: synced, ...health };
  if (operation !== undefined && namesCommit(operation.revision, commit) && (operation.phase === 'Failed' || operation.phase === 'Error')) {
    return { stage: 'failed', revision: operation.revision!, detail: failure(operation.phase, operation.message), ...health };
  }
  return { stage: 'following', ...(status.synced[0] ? { revision: status.synced[0] } : {}), ...health };
}
