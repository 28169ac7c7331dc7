/**
 * What a cluster's credentials lack for the config, discovery and Events: checked once, without delaying
 * anything, and said in the log and on the status page with what each gap costs.
 */
import type { Logger, ObjectSelector } from '../core/index.ts';
import { defaultApiVersion } from '../core/index.ts';
import { findMissingDiscoveryPermissions, findMissingFollowPermissions, findMissingPermissions, type MissingPermission } from '../kube/index.ts';
import { named, type Member } from './cluster-member.ts';

export interface PermissionCheck {
  /** Whether to check what Events need (`kubernetes.events`). */
  events: boolean;
  /** The kinds discovery watches, and where; absent when discovery is off. */
  discovery?: { kinds: readonly string[]; namespaces?: readonly string[] };
  /** The kinds following watches, and where (undefined: all namespaces); absent when following is off. */
  feedback?: { kinds: readonly { apiVersion: string; kind: string }[]; namespaces: readonly string[] | undefined };
  log: Logger;
  /** Each gap found joins these (the status page's problems). */
  problems: string[];
}

/** Checks the member's permissions for the selectors it serves (those of every cluster, or naming it). */
export async function checkMemberPermissions(member: Member, selectors: readonly ObjectSelector[], check: PermissionCheck): Promise<void> {
  const { log } = check;
  const where = member.name !== undefined ? { cluster: member.name } : {};
  const mine = selectors.filter((selector) => selector.clusters === undefined || (member.name !== undefined && selector.clusters.includes(member.name)));
  try {
    const missing: MissingPermission[] = [...(await findMissingPermissions(member.connection.client, mine, { events: check.events }))];
    if (check.discovery) {
      const kinds = check.discovery.kinds.map((kind) => ({ apiVersion: defaultApiVersion(kind)!, kind }));
      missing.push(...(await findMissingDiscoveryPermissions(member.connection.client, kinds, check.discovery.namespaces)));
    }
    if (check.feedback) missing.push(...(await findMissingFollowPermissions(member.connection.client, check.feedback.kinds, check.feedback.namespaces)));
    for (const gap of missing) {
      const problem = `${named(member)}the Kubernetes credentials may not ${gap.verb} ${gap.kind} ${gap.namespace === '' ? 'in any namespace' : `in ${gap.namespace}`}: ${effectOf(gap)}`;
      log.warn(problem, { ...where, affects: gap.selectors });
      check.problems.push(`${problem} (${gap.selectors.join(', ')})`);
    }
    log.info('kubernetes permissions checked', { ...where, missing: missing.length });
  } catch (error) {
    log.debug('could not check permissions', { ...where, error: (error as Error).message });
  }
}

/** What the missing permission costs the user. */
function effectOf(gap: MissingPermission): string {
  if (gap.kind === 'Event') return 'no Events will show why objects reconciled (kubernetes.events: false silences this)';
  if (gap.verb !== 'patch' && gap.selectors.includes('discovery')) return 'discovery cannot keep its index of it';
  if (gap.selectors.includes('feedback')) return 'following cannot see how far a push got on it (deploy/rbac/feedback)';
  return 'reconcile requests for it will fail with 403';
}
