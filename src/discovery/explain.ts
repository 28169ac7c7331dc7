/**
 * The discovered view of `fluxgate explain`: given a push (a repository and ref, or the events of a payload) and
 * the objects listed from each cluster, which would be reconciled, in which cluster and by which rule, and why
 * each near miss would not be (another branch, suspended, a pinned commit, opted out). The same indexes and rules
 * as the webhook path, without a watch: the command lists the objects and hands them over.
 */
import type { Event } from '../provider-kit/index.ts';
import type { WatchedObject } from '../kube/index.ts';
import { eventKeys } from './discovered-object.ts';
import { createDiscoveryIndex, type DiscoveryIndex } from './discovery-index.ts';
import { matchDiscovered } from './match-discovered.ts';

/** A push as the command line gives it. */
export interface ExplainPush {
  /** Any spelling: `org/repo`, `https://github.com/org/repo`, `git@github.com:org/repo.git`. */
  repository: string;
  /** `refs/heads/main`, `refs/tags/v1.2.0`, or a bare branch name. */
  ref: string;
  /** Changed paths, for `fluxgate.io/paths`; omitted: unknown (the filter passes). */
  paths?: readonly string[];
  /** The repository's default branch (for GitRepositories without a ref, and Argo CD `HEAD`). */
  defaultBranch?: string;
}

export interface ExplainedObject {
  cluster?: string;
  /** `GitRepository flux-system/app` */
  object: string;
  /** The rule that finds it, or why it is not reconciled. */
  why: string;
}

export interface DiscoveredExplanation {
  reconcile: ExplainedObject[];
  nearMisses: ExplainedObject[];
}

/** The event a push on the command line stands for. */
export function pushEvent(push: ExplainPush): Event {
  const ref = push.ref.startsWith('refs/') ? push.ref : `refs/heads/${push.ref}`;
  return {
    event: 'push',
    repositories: [push.repository],
    ref,
    ...(ref.startsWith('refs/heads/') ? { branch: ref.slice(11) } : ref.startsWith('refs/tags/') ? { tag: ref.slice(10) } : {}),
    ...(push.paths ? { changedPaths: [...push.paths] } : {}),
    ...(push.defaultBranch ? { defaultBranch: push.defaultBranch } : {}),
  };
}

/**
 * @example
 * explainDiscovered({ repository: 'github.com/org/app', ref: 'refs/heads/main' }, [{ cluster: 'prod', objects: listedGitRepositories }]);
 * // { reconcile: [{ cluster: 'prod', object: 'GitRepository flux-system/app', why: 'discovered: …, ref branch main' }],
 * //   nearMisses: [{ cluster: 'prod', object: 'GitRepository flux-system/app-dev', why: 'follows branch dev, not branch main' }] }
 */
export function explainDiscovered(push: ExplainPush | { events: readonly Event[] }, listed: readonly { cluster?: string; objects: readonly WatchedObject[] }[]): DiscoveredExplanation {
  const events = 'events' in push ? push.events : [pushEvent(push)];
  const reconcile = new Map<string, ExplainedObject>();
  const nearMisses = new Map<string, ExplainedObject>();
  for (const { cluster, objects } of listed) {
    for (const index of indexesByKind(objects)) {
      for (const event of events) {
        if (event.deleted) continue;
        const keys = eventKeys(event);
        const { hits, misses } = matchDiscovered(event, keys, index.candidates(keys));
        const where = cluster === undefined ? {} : { cluster };
        for (const hit of hits) reconcile.set(`${cluster}|${hit.object.label}`, { ...where, object: hit.object.label, why: hit.rule });
        for (const miss of misses) nearMisses.set(`${cluster}|${miss.object.label}`, { ...where, object: miss.object.label, why: miss.why });
      }
    }
  }
  // An object another event of the same delivery reconciles is not a near miss.
  for (const key of reconcile.keys()) nearMisses.delete(key);
  return { reconcile: [...reconcile.values()], nearMisses: [...nearMisses.values()] };
}

/** One index per kind, as discovery keeps them (names are unique only within a kind). */
function indexesByKind(objects: readonly WatchedObject[]): DiscoveryIndex[] {
  const byKind = new Map<string, WatchedObject[]>();
  for (const object of objects) {
    const list = byKind.get(object.kind);
    if (list) list.push(object);
    else byKind.set(object.kind, [object]);
  }
  return [...byKind.values()].map((list) => {
    const index = createDiscoveryIndex();
    index.replace(list);
    return index;
  });
}
