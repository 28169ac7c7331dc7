/**
 * The commit-status contract: what following (src/feedback) needs of a Git host to show, on the pushed commit, when
 * each object in each cluster applied it. A built-in type whose host has a statuses API exports `commitStatus` from
 * its folder (plugins/<type>/index.ts): the host's limits, and the client, imported on first use. It uses the
 * credentials `register` uses (`providers[].register.token`, `apiUrl`) and the same pinned transport (HostFetch).
 */
import type { HostFetch } from './hook-host.ts';

/**
 * fluxgate's words for where an object is: `pending` while followed, `success` once applied, `failure` when its
 * controller said it failed, `error` when it timed out, `superseded` when a newer commit took its place. Each host
 * maps them to its own states.
 */
export type CommitState = 'pending' | 'success' | 'failure' | 'error' | 'superseded';

/** One status on one commit. */
export interface CommitStatus {
  state: CommitState;
  /** The status's name on the commit (`fluxgate/prod-eu/Kustomization/flux-system/apps`): one per cluster and object. */
  context: string;
  /** One line for people, already cut to the host's `maxDescription`. */
  description: string;
  /** The delivery's drill-down page, when `server.publicUrl` is set. */
  targetUrl?: string;
}

/** Where a status goes: the repository as the host names it (`owner/repo`, `group/sub/project`, `workspace/repo`) and the commit. */
export interface CommitTarget {
  repository: string;
  sha: string;
}

export interface CommitStatusClient {
  /** Sets (creates or replaces) the status of `status.context` on the commit. Throws HostError on a failed answer. */
  set(target: CommitTarget, status: CommitStatus): Promise<void>;
  /** What a failure means, in the user's words (the scope or permission the token lacks). */
  explain(error: unknown, target: CommitTarget): string;
}

export interface CommitStatusSpec {
  /** The host's name in messages. */
  title: string;
  /** The API when `register.apiUrl` is not set; undefined: it must be set (self-hosted only). */
  defaultApiUrl?: string;
  /** An API address to show when `register.apiUrl` must be set. */
  exampleApiUrl: string;
  /** The longest description the host keeps (GitHub 140 characters). */
  maxDescription: number;
}

/** How following reports on one provider type's host. */
export interface CommitStatuses {
  spec: CommitStatusSpec;
  /** The client for one token; its module is imported here, on first use, so serving without statuses never loads it. */
  client(options: { apiUrl: string; token: string; send: HostFetch }): Promise<CommitStatusClient>;
}

/**
 * `text` cut to `max` characters, on one line, the cut marked with `…`.
 *
 * @example cutDescription('a\nvery long message', 10) // 'a very lo…'
 */
export function cutDescription(text: string, max: number): string {
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, Math.max(0, max - 1))}…`;
}
