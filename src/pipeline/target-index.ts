/**
 * Targets indexed by what a delivery names, so a delivery evaluates only the targets that can match it: a target
 * whose `match.repository` is a literal repository is found under it (a slug under its path on any host, a URL under
 * host and path), one whose `match.images` are literal images under each of them; targets without such a filter
 * (or with a glob) are in a list every delivery evaluates. With thousands of targets on one repository each, a
 * push costs what its own targets cost, not what the whole config costs.
 */
import type { TargetMatch } from '../config/index.ts';
import { isGlobPattern } from '../core/index.ts';
import { normalizeImage } from './image-ref.ts';
import type { Event } from '../provider-kit/index.ts';
import { normalizeRepository, perSpelling, type NormalizedRepository } from './repository-url.ts';

/** Where a target is filed: its index keys, or none (evaluated for every delivery). */
export function indexKeysOf(match: TargetMatch | undefined): string[] {
  const repository = match?.repository;
  if (repository !== undefined) {
    if (isGlobPattern(repository)) return [];
    const { host, path } = normalizeRepository(repository);
    return [host === undefined ? `path:${path}` : `repo:${host}/${path}`];
  }
  const images = match?.images;
  if (images !== undefined && images.length > 0 && !images.some(isGlobPattern)) return images.map((image) => `image:${normalizeImage(image)}`);
  return [];
}

/** The keys one repository spelling can be found under: by path, and by host/path when it names a host. */
function spellingKeys(normalized: NormalizedRepository): string[] {
  const { host, path } = normalized;
  if (path === '') return [];
  return host === undefined ? [`path:${path}`] : [`path:${path}`, `repo:${host}/${path}`];
}

/** The keys a delivery's event can be found under: each repository spelling's, and its image's. */
function eventKeys(event: Event, into: Set<string>, keysOf: (spelling: string) => readonly string[]): void {
  for (const spelling of event.repositories) for (const key of keysOf(spelling)) into.add(key);
  if (event.image) into.add(`image:${normalizeImage(event.image.name)}`);
}

export interface TargetIndex<T> {
  /** The targets that can match any of `events`, in config order; `others` is how many were skipped. */
  candidates(events: readonly Event[]): { targets: T[]; others: number };
  readonly size: number;
  /** Every target, in config order. */
  readonly all: readonly T[];
}

/**
 * @example
 * const index = indexTargets(targets, (target) => target.keys);
 * index.candidates([push]).targets; // the targets of that repository, plus those without a repository filter
 */
export function indexTargets<T>(targets: readonly T[], keysOf: (target: T) => readonly string[]): TargetIndex<T> {
  const byKey = new Map<string, number[]>();
  const always: number[] = [];
  targets.forEach((target, position) => {
    const keys = keysOf(target);
    if (keys.length === 0) always.push(position);
    for (const key of keys) {
      const list = byKey.get(key);
      if (list) list.push(position);
      else byKey.set(key, [position]);
    }
  });
  // The same repositories arrive push after push: each spelling's keys are made once, not on every delivery.
  const spellingKeysOf = perSpelling((spelling) => spellingKeys(normalizeRepository(spelling)));
  return {
    size: targets.length,
    all: targets,
    candidates(events) {
      const keys = new Set<string>();
      for (const event of events) eventKeys(event, keys, spellingKeysOf);
      const found = new Set<number>(always);
      for (const key of keys) for (const position of byKey.get(key) ?? []) found.add(position);
      const positions = [...found].sort((a, b) => a - b);
      return { targets: positions.map((position) => targets[position]!), others: targets.length - positions.length };
    },
  };
}
