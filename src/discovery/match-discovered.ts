/**
 * Which discovered objects one event concerns, each with the rule that found it, and the near misses: objects of
 * the same repository or image that do not follow this push (another branch, a pinned commit), are suspended, or
 * opted out. The candidates come from the index (same repository or image); this decides about each.
 */
import type { Event } from '../provider-kit/index.ts';
import type { DiscoveredObject, DiscoveredSource } from './discovered-object.ts';
import { IGNORE_ANNOTATION } from './discovered-object.ts';
import { MANIFEST_GENERATE_PATHS_ANNOTATION } from './manifest-generate-paths.ts';
import { followsPush, type Verdict } from './follows.ts';

export interface DiscoveredHit {
  object: DiscoveredObject;
  /** `discovered: GitRepository flux-system/app, url https://github.com/org/app, ref branch main` */
  rule: string;
}

export interface DiscoveredMiss {
  object: DiscoveredObject;
  /** `follows branch dev, not branch main` */
  why: string;
}

/**
 * @example
 * matchDiscovered(push, index.candidates(eventKeys(push)));
 * // { hits: [{ object, rule: 'discovered: GitRepository flux-system/app, url …, ref branch main' }], misses: [] }
 */
export function matchDiscovered(event: Event, keys: ReadonlySet<string>, candidates: readonly DiscoveredObject[]): { hits: DiscoveredHit[]; misses: DiscoveredMiss[] } {
  const hits: DiscoveredHit[] = [];
  const misses: DiscoveredMiss[] = [];
  const miss = (object: DiscoveredObject, why: string) => misses.push({ object, why });
  for (const object of candidates) {
    if (object.ignored) {
      miss(object, `ignored (${IGNORE_ANNOTATION}: "true")`);
      continue;
    }
    if (object.suspended) {
      miss(object, 'suspended (spec.suspend: true)');
      continue;
    }
    const found = followingSource(object, keys, event);
    if ('miss' in found) {
      if (found.miss !== undefined) miss(object, found.miss);
      continue;
    }
    let rule = `discovered: ${object.label}, ${found.source.shown}, ${found.verdict.why}`;
    const paths = object.paths;
    if (paths && 'invalid' in paths) rule += ` (${paths.invalid}: not applied)`;
    else if (paths) {
      const result = paths.check(event);
      if (!result.matched) {
        miss(object, `${result.reason} (fluxgate.io/paths)`);
        continue;
      }
      rule += `, paths ${paths.patterns}`;
    }
    const refresh = found.source.refresh;
    if (refresh && 'invalid' in refresh) rule += ` (${refresh.invalid}: not applied)`;
    else if (refresh) rule += `, ${MANIFEST_GENERATE_PATHS_ANNOTATION} "${refresh.annotation}"`;
    hits.push({ object, rule });
  }
  return { hits, misses };
}

/**
 * The first of the object's sources with the pushed repository that follows the push and, for an Application with
 * `argocd.argoproj.io/manifest-generate-paths`, whose refresh paths hold a changed file (argocd-server tries each
 * source so); else why not (undefined when no source has the repository).
 */
function followingSource(object: DiscoveredObject, keys: ReadonlySet<string>, event: Event): { source: DiscoveredSource; verdict: Verdict } | { miss: string | undefined } {
  let why: string | undefined;
  for (const source of object.sources) {
    if (!source.keys.some((key) => keys.has(key))) continue;
    const verdict = verdictOf(source, event);
    if (!verdict.follows) {
      why ??= verdict.why;
      continue;
    }
    const refresh = source.refresh;
    if (refresh && 'concerns' in refresh && !refresh.concerns(event.changedPaths)) {
      why = `no changed path in ${MANIFEST_GENERATE_PATHS_ANNOTATION} "${refresh.annotation}"`;
      continue;
    }
    return { source, verdict };
  }
  return { miss: why };
}

function verdictOf(source: DiscoveredSource, event: Event): Verdict {
  if (source.follows === undefined) return { follows: true, why: event.tag !== undefined ? `tag ${event.tag}` : 'any tag' };
  return followsPush(source.follows, event);
}
