/**
 * Target matching: compiles a target's `match` block once at config load into a cheap predicate that runs on
 * every webhook and, when it says no, says why in a short sentence for the status page.
 */
import type { TargetMatch } from '../config/index.ts';
import { redactUrl } from '../core/index.ts';
import type { Event } from '../provider-kit/index.ts';
import { imageMatcher, normalizeImage } from './image-ref.ts';
import { compileGlob } from '../core/index.ts';
import { cachedNormalizer, compileRepositoryPattern, normalizeRepository, repositoryMatches, type NormalizedRepository, type RepositoryPattern } from './repository-url.ts';

export type MatchResult = { matched: true } | { matched: false; reason: string };

/** One compiled rule: `undefined` when the event passes, else the reason it does not. */
type Check = (event: Event) => string | undefined;

const MATCHED: MatchResult = { matched: true };

/**
 * Compiles `targets[].match`. Every field is optional and an omitted field accepts anything; a field given as
 * an empty list accepts nothing of its kind. Checks run in this order and the first failure is the reason:
 * 1. `repository` — see `repositoryMatcher`: slug, URL or glob; any of the event's spellings may match.
 * 2. deleted refs never match: reconciling on a branch deletion is pointless.
 * 3. `branches` / `tags` — globs (Bun.Glob: `*` stays within one `/` segment, so `release/*` matches
 *    `release/1.2` but not `release/1/hotfix`, which needs `release/**`; the same rule as GitHub Actions branch
 *    filters). Case-sensitive, as Git refs are. With only `branches`, tag pushes and ref-less events are ignored;
 *    with only `tags`, branch pushes and ref-less events are ignored; with both, either kind may match; with
 *    neither, any ref and ref-less events (e.g. registry pushes) match.
 * 4. `paths` — globs over the push's changed paths (`apps/**`, `clusters/prod/*.yaml`); one changed path
 *    matching one glob is enough. When the provider does not report changed paths (`changedPaths` undefined,
 *    e.g. a host that omits or truncates file lists) the filter PASSES: a missed deployment is worse than a
 *    spare reconcile. An empty list (a push that changed nothing) fails. A leading `/` or `./` in a pattern is
 *    ignored and a trailing `/` means everything below it (`apps/` = `apps/**`).
 * Throws at compile time on a malformed glob or a negated (`!`) pattern, naming the field.
 *
 * @example
 * const match = compileMatch({ repository: 'my-org/infra', branches: ['main'], paths: ['apps/**'] });
 * match({ event: 'push', repositories: ['my-org/infra'], branch: 'main', changedPaths: ['apps/a.yaml'] });
 * // { matched: true }
 * match({ event: 'push', repositories: ['my-org/infra'], branch: 'dev', changedPaths: ['apps/a.yaml'] });
 * // { matched: false, reason: 'branch dev does not match [main]' }
 */
export function compileMatch(match: TargetMatch | undefined): (event: Event) => MatchResult {
  return createMatchCompiler().compile(match);
}

/** Compiles many targets' `match` blocks (`compileMatch` for each), sharing what they have in common. */
export interface MatchCompiler {
  compile(match: TargetMatch | undefined): (event: Event) => MatchResult;
}

const notDeleted: Check = (event) => (event.deleted ? (event.image ? 'image deleted' : 'ref deleted') : undefined);

/**
 * A compiler for one config: targets that list the same branches, tags or paths share one compiled check (a
 * config of 10,000 targets with `branches: [main]` holds one, not 10,000), and repository matchers share one
 * cache of normalized spellings, so a push's URLs are parsed once whichever targets look at them. The caches
 * live as long as the compiled targets do: they are replaced with them on reload.
 *
 * @example
 * const compiler = createMatchCompiler();
 * const matchers = config.targets.map((target) => compiler.compile(target.match));
 */
export function createMatchCompiler(): MatchCompiler {
  const normalize = cachedNormalizer();
  const shared = new Map<string, Check>();
  const once = (key: string, make: () => Check): Check => {
    let check = shared.get(key);
    if (check === undefined) shared.set(key, (check = make()));
    return check;
  };
  // The loader compiles every target to check it; serving then asks again for the same match blocks. Each is
  // compiled once: a second set of 10,000 matchers was 12 MiB of garbage at the peak of start-up.
  const compiled = new WeakMap<TargetMatch, (event: Event) => MatchResult>();
  const lists = new Map<string, readonly Check[]>();
  return {
    compile(match) {
      if (match === undefined) return compileChecks(undefined);
      let predicate = compiled.get(match);
      if (predicate === undefined) compiled.set(match, (predicate = compileChecks(match)));
      return predicate;
    },
  };

  function compileChecks(match: TargetMatch | undefined): (event: Event) => MatchResult {
    // Per target, one closure and the repository's record; the other checks, and their list, are shared by every
    // target that lists the same images, branches, tags and paths.
    const repository = match?.repository === undefined ? undefined : compileRepositoryPattern(match.repository);
    const checks = sharedList(match);
    return (event) => {
      if (repository !== undefined) {
        const reason = repositoryReason(repository, event, normalize);
        if (reason !== undefined) return { matched: false, reason };
      }
      for (const check of checks) {
        const reason = check(event);
        if (reason !== undefined) return { matched: false, reason };
      }
      return MATCHED;
    };
  }

  function sharedList(match: TargetMatch | undefined): readonly Check[] {
    const key = `${listKey(match?.images)};${listKey(match?.branches)};${listKey(match?.tags)};${listKey(match?.paths)}`;
    const known = lists.get(key);
    if (known !== undefined) return known;
    const list: Check[] = [];
    if (match?.images !== undefined) list.push(once(`images ${JSON.stringify(match.images)}`, () => imagesCheck(match.images!)));
    list.push(notDeleted);
    if (match?.branches !== undefined || match?.tags !== undefined) list.push(once(`refs ${JSON.stringify([match.branches, match.tags])}`, () => refCheck(match.branches, match.tags)));
    if (match?.paths !== undefined) list.push(once(`paths ${JSON.stringify(match.paths)}`, () => pathsCheck(match.paths!)));
    lists.set(key, list);
    return list;
  }
}

/** A list's part of a shared-list key: each pattern prefixed by its length, so no two lists share a key; `-` when absent. */
function listKey(patterns: readonly string[] | undefined): string {
  if (patterns === undefined) return '-';
  let key = `${patterns.length}`;
  for (const pattern of patterns) key += `,${pattern.length}:${pattern}`;
  return key;
}

function imagesCheck(patterns: string[]): Check {
  const matchers = patterns.map((pattern, index) => {
    try {
      return imageMatcher(pattern);
    } catch (error) {
      throw new Error(`match.images[${index}]: ${(error as Error).message}`);
    }
  });
  return (event) => {
    if (event.image === undefined) return `event names no image (want ${list(patterns)})`;
    const name = event.image.name;
    return matchers.some((matches) => matches(name)) ? undefined : `image ${normalizeImage(name)} does not match ${list(patterns)}`;
  };
}

function repositoryReason(wanted: RepositoryPattern, event: Event, normalize: (input: string) => NormalizedRepository): string | undefined {
  if (event.repositories.length === 0) return `event names no repository (want ${wanted.pattern})`;
  if (repositoryMatches(wanted, event.repositories, normalize)) return undefined;
  return `repository ${shown(event.repositories)} ${wanted.glob === undefined ? 'is not' : 'does not match'} ${wanted.pattern}`;
}

/**
 * The most telling spelling for a reason: `host/path` when one is known, else the slug; never a password, whatever
 * form the URL took (the reason is recorded and shown). Runs only on a miss.
 */
export function shown(repositories: readonly string[]): string {
  const normalized = repositories.map((repository) => normalizeRepository(redactUrl(repository)));
  const hosted = normalized.find((r) => r.host !== undefined && r.path !== '');
  if (hosted) return `${hosted.host}/${hosted.path}`;
  return normalized.find((r) => r.path !== '')?.path ?? redactUrl(repositories[0] ?? '');
}

function refCheck(branches: string[] | undefined, tags: string[] | undefined): Check {
  const branchMatches = branches && anyOf(branches, 'branches');
  const tagMatches = tags && anyOf(tags, 'tags');
  const watching = [branches && `branches ${list(branches)}`, tags && `tags ${list(tags)}`].filter(Boolean).join(' or ');
  return (event) => {
    const ref = refOf(event);
    if (ref === undefined) return `event has no branch or tag (watching ${watching})`;
    const matches = ref.kind === 'branch' ? branchMatches : tagMatches;
    if (matches === undefined) return `${ref.kind} ${ref.name} ignored: watching ${watching}`;
    if (matches(ref.name)) return undefined;
    return `${ref.kind} ${ref.name} does not match ${list(ref.kind === 'branch' ? branches ?? [] : tags ?? [])}`;
  };
}

/** Branch or tag the event concerns; falls back to `ref` for plugins that only fill that. */
function refOf(event: Event): { kind: 'branch' | 'tag'; name: string } | undefined {
  if (event.branch) return { kind: 'branch', name: event.branch };
  if (event.tag) return { kind: 'tag', name: event.tag };
  if (event.ref?.startsWith('refs/heads/')) return { kind: 'branch', name: event.ref.slice('refs/heads/'.length) };
  if (event.ref?.startsWith('refs/tags/')) return { kind: 'tag', name: event.ref.slice('refs/tags/'.length) };
  return undefined;
}

function pathsCheck(patterns: string[]): Check {
  const matches = anyOf(patterns.map(pathPattern), 'paths');
  return (event) => {
    const changed = event.changedPaths;
    if (changed === undefined) return undefined; // the provider does not report paths: never block a deployment
    if (changed.length === 0) return `no paths changed (watching ${list(patterns)})`;
    for (const path of changed) if (matches(path.startsWith('/') ? path.slice(1) : path)) return undefined;
    return `no changed path matches ${list(patterns)}`;
  };
}

/** Changed paths are repository-relative without a leading slash; let patterns be written either way. */
function pathPattern(pattern: string): string {
  const relative = pattern.replace(/^(\.?\/)+/, '');
  return relative === '' || relative.endsWith('/') ? `${relative}**` : relative;
}

function anyOf(patterns: string[], field: string): (value: string) => boolean {
  const globs = patterns.map((pattern, index) => {
    try {
      return compileGlob(pattern);
    } catch (error) {
      throw new Error(`match.${field}[${index}]: ${(error as Error).message}`);
    }
  });
  return (value) => globs.some((glob) => glob(value));
}

function list(patterns: readonly string[]): string {
  return `[${patterns.join(', ')}]`;
}
