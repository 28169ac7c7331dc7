/**
 * What a watched object follows, and whether a push is something it follows: Flux GitRepository `spec.ref`,
 * Argo CD `targetRevision`, OCIRepository `spec.ref`. Each answer says why, in words for the delivery log
 * (`ref branch main`, `follows branch dev`, `pinned to commit 1a2b3c4`).
 *
 * Semver ranges use the `semver` package (npm's own implementation, well kept, with types). Flux reads ranges with
 * Masterminds/semver, whose syntax differs in one way that matters here: a comma means AND (`>=1.0.0, <2.0.0`),
 * which node-semver writes with a space; `||`, `^`, `~`, `x` wildcards, hyphen ranges and the rule that
 * pre-releases match only a range that names one agree. A leading `v` on a tag is accepted by both.
 *
 * A range is parsed once, when the object is (re)filed, and bounded: testing a tag against it costs a comparison
 * per alternative, and a range of 30,000 alternatives parsed again for each push held the event loop for seconds.
 */
import { Range } from 'semver';
import type { TagExclusions } from './exclusion-list.ts';

/** The ref a push concerns, as the pipeline's Event says it. */
export interface PushedRef {
  branch?: string;
  tag?: string;
  /** Full ref, e.g. `refs/heads/main`. */
  ref?: string;
  /** The repository's default branch, when the payload says it. */
  defaultBranch?: string;
}

/** One rule an object follows. */
export type Follows =
  | { kind: 'branch'; name: string }
  | { kind: 'tag'; name: string }
  | { kind: 'semver'; range: string; compiled: Range }
  /** A semver rule fluxgate does not use: not a range, or past the bounds; `shown` is the range cut for messages. */
  | { kind: 'unusable-semver'; shown: string; why: string }
  | { kind: 'ref'; name: string }
  | { kind: 'commit'; id: string }
  /** Flux GitRepository without a ref: Flux checks out `master`; the repository's default branch counts too. */
  | { kind: 'flux-default' }
  /** Argo CD `HEAD` (or no targetRevision): the repository's default branch. */
  | { kind: 'head' }
  /** Flux ImageRepository: every tag pushed to its image but those its `exclusionList` leaves out. */
  | { kind: 'image-tags'; exclusions: TagExclusions };

export type Verdict = { follows: true; why: string } | { follows: false; why: string };

/** Flux's branch when a GitRepository names no ref (its CRD: "defaults to the 'master' branch"). */
export const FLUX_DEFAULT_BRANCH = 'master';

/** A full commit id (SHA-1 or SHA-256): a short hex name could be a branch. */
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
/** What makes an Argo CD targetRevision a semver constraint rather than a branch or tag name. */
const RANGE_SYNTAX = /[\^~<>=*|,]|(^|\.)[xX](\.|$)| - /;

/** Longest semver range used: real ones are tens of characters (`>=1.0.0 <2.0.0`, `~1.2 || ~1.4`). */
export const MAX_SEMVER_RANGE_LENGTH = 1024;
/** Most `||` alternatives in a range used: each tag pushed is compared with every one of them. */
export const MAX_SEMVER_ALTERNATIVES = 32;
/** Characters of an unusable range quoted in messages. */
const SHOWN_RANGE_LENGTH = 64;

/** Why a range is past the bounds fluxgate reads, or undefined. */
function outOfBounds(range: string, shown: string): string | undefined {
  if (range.length > MAX_SEMVER_RANGE_LENGTH) return `semver range ${shown} is ${range.length} characters long, more than the ${MAX_SEMVER_RANGE_LENGTH} fluxgate reads`;
  const alternatives = range.split('||').length;
  if (alternatives > MAX_SEMVER_ALTERNATIVES) return `semver range ${shown} has ${alternatives} alternatives (||), more than the ${MAX_SEMVER_ALTERNATIVES} fluxgate reads`;
  return undefined;
}

/**
 * The rule of a semver range, parsed once as node-semver reads a Masterminds range (commas are AND); a range past
 * the bounds or that does not parse is kept as unusable, with why (a near miss of every push).
 * @example semverRule('>=1.0.0, <2.0.0') // { kind: 'semver', range: '>=1.0.0, <2.0.0', compiled: new Range('>=1.0.0  <2.0.0') }
 */
export function semverRule(range: string): Follows {
  const shown = range.length > SHOWN_RANGE_LENGTH ? `${range.slice(0, SHOWN_RANGE_LENGTH)}…` : range;
  const why = outOfBounds(range, shown);
  if (why !== undefined) return { kind: 'unusable-semver', shown, why };
  try {
    return { kind: 'semver', range, compiled: new Range(range.replace(/,/g, ' ')) };
  } catch {
    return { kind: 'unusable-semver', shown, why: `semver ${range} is not a valid range` };
  }
}

/**
 * The rule of a Flux GitRepository's `spec.ref`, in Flux's order of precedence: commit, name, semver, tag, branch.
 * @example gitRepositoryFollows({ branch: 'main' })          // { kind: 'branch', name: 'main' }
 * @example gitRepositoryFollows({ branch: 'main', commit })  // { kind: 'commit', id: commit } (pinned)
 */
export function gitRepositoryFollows(ref: unknown): Follows {
  const r = (typeof ref === 'object' && ref !== null ? ref : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof r[key] === 'string' && r[key] !== '' ? (r[key] as string) : undefined);
  const commit = text('commit');
  if (commit !== undefined) return { kind: 'commit', id: commit };
  const name = text('name');
  if (name !== undefined) return { kind: 'ref', name };
  const semver = text('semver');
  if (semver !== undefined) return semverRule(semver);
  const tag = text('tag');
  if (tag !== undefined) return { kind: 'tag', name: tag };
  const branch = text('branch');
  if (branch !== undefined) return { kind: 'branch', name: branch };
  return { kind: 'flux-default' };
}

/**
 * The rule of an Argo CD source's `targetRevision`: `HEAD` or nothing is the default branch, a full ref is that ref,
 * a commit id is pinned, a constraint (`^1.2.0`, `>=1.0 <2`) is a semver range over tags; anything else is a branch
 * or tag name (Argo CD tries both).
 * @example argoFollows('HEAD')   // { kind: 'head' }
 * @example argoFollows('v1.2.0') // { kind: 'branch', … } and tag alike: see followsPush
 */
export function argoFollows(targetRevision: unknown): Follows {
  const revision = typeof targetRevision === 'string' ? targetRevision.trim() : '';
  if (revision === '' || revision === 'HEAD') return { kind: 'head' };
  if (revision.startsWith('refs/')) return { kind: 'ref', name: revision };
  if (COMMIT.test(revision)) return { kind: 'commit', id: revision };
  if (RANGE_SYNTAX.test(revision)) {
    const rule = semverRule(revision);
    // Past the bounds it is refused as a range; a name with range syntax that does not parse is a branch or tag name.
    if (rule.kind === 'semver' || outOfBounds(revision, '') !== undefined) return rule;
  }
  // Argo CD resolves a plain name as a branch or a tag: 'ref' with a short name stands for "either".
  return { kind: 'ref', name: revision };
}

/**
 * The rule of a Flux OCIRepository's `spec.ref`: digest (pinned), semver, tag; none is the tag `latest`.
 * @example ociRepositoryFollows(undefined) // { kind: 'tag', name: 'latest' }
 */
export function ociRepositoryFollows(ref: unknown): Follows {
  const r = (typeof ref === 'object' && ref !== null ? ref : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof r[key] === 'string' && r[key] !== '' ? (r[key] as string) : undefined);
  const digest = text('digest');
  if (digest !== undefined) return { kind: 'commit', id: digest };
  const semver = text('semver');
  if (semver !== undefined) return semverRule(semver);
  return { kind: 'tag', name: text('tag') ?? 'latest' };
}

/** The rule in words, for the record of what was found: `branch main`, `semver >=1.0.0`. */
export function describeFollows(rule: Follows): string {
  switch (rule.kind) {
    case 'branch':
    case 'tag':
      return `${rule.kind} ${rule.name}`;
    case 'semver':
      return `semver ${rule.range}`;
    case 'unusable-semver':
      return `semver ${rule.shown} (unusable)`;
    case 'ref':
      return `ref ${rule.name}`;
    case 'commit':
      return `commit ${short(rule.id)}`;
    case 'flux-default':
      return `no ref (branch ${FLUX_DEFAULT_BRANCH})`;
    case 'head':
      return 'HEAD (the default branch)';
    case 'image-tags':
      return 'any tag';
  }
}

/**
 * Whether `rule` follows the pushed ref, and why (or why not).
 *
 * @example followsPush({ kind: 'branch', name: 'main' }, { branch: 'main' }) // { follows: true, why: 'ref branch main' }
 * @example followsPush({ kind: 'branch', name: 'dev' }, { branch: 'main' })  // { follows: false, why: 'follows branch dev, not main' }
 */
export function followsPush(rule: Follows, pushed: PushedRef): Verdict {
  const { branch, tag } = refNames(pushed);
  const what = branch !== undefined ? `branch ${branch}` : tag !== undefined ? `tag ${tag}` : pushed.ref !== undefined ? `ref ${pushed.ref}` : 'no ref';
  const yes = (why: string): Verdict => ({ follows: true, why });
  const no = (why: string): Verdict => ({ follows: false, why });
  switch (rule.kind) {
    case 'commit':
      return no(`pinned to ${rule.id.startsWith('sha256:') ? 'digest' : 'commit'} ${short(rule.id)}`);
    case 'branch':
      return branch === rule.name ? yes(`ref branch ${rule.name}`) : no(`follows branch ${rule.name}, not ${what}`);
    case 'tag':
      return tag === rule.name ? yes(`ref tag ${rule.name}`) : no(`follows tag ${rule.name}, not ${what}`);
    case 'unusable-semver':
      return no(rule.why);
    case 'semver': {
      if (tag === undefined) return no(`follows semver ${rule.range} (tags only), not ${what}`);
      return rule.compiled.test(tag) ? yes(`ref semver ${rule.range} (tag ${tag})`) : no(`tag ${tag} is not in semver ${rule.range}`);
    }
    case 'ref': {
      const full = pushed.ref ?? (branch !== undefined ? `refs/heads/${branch}` : tag !== undefined ? `refs/tags/${tag}` : undefined);
      if (rule.name.startsWith('refs/')) return full === rule.name ? yes(`ref ${rule.name}`) : no(`follows ref ${rule.name}, not ${what}`);
      if (branch === rule.name) return yes(`revision ${rule.name} (branch)`);
      if (tag === rule.name) return yes(`revision ${rule.name} (tag)`);
      return no(`follows revision ${rule.name}, not ${what}`);
    }
    case 'flux-default': {
      if (branch === undefined) return no(`follows branch ${FLUX_DEFAULT_BRANCH} (no ref), not ${what}`);
      if (branch === FLUX_DEFAULT_BRANCH) return yes(`no ref: branch ${FLUX_DEFAULT_BRANCH}`);
      if (branch === pushed.defaultBranch) return yes(`no ref: the default branch ${branch}`);
      return no(`no ref follows branch ${FLUX_DEFAULT_BRANCH}${pushed.defaultBranch && pushed.defaultBranch !== FLUX_DEFAULT_BRANCH ? ` or the default branch ${pushed.defaultBranch}` : ''}, not ${what}`);
    }
    case 'head': {
      if (branch === undefined) return no(`follows HEAD (the default branch), not ${what}`);
      // Without the default branch in the payload, any branch may be it: a spare refresh beats a missed one.
      if (pushed.defaultBranch === undefined) return yes(`HEAD (default branch unknown: branch ${branch})`);
      return branch === pushed.defaultBranch ? yes(`HEAD (default branch ${branch})`) : no(`follows HEAD (default branch ${pushed.defaultBranch}), not ${what}`);
    }
    case 'image-tags': {
      const ignored = rule.exclusions.invalid.length > 0 ? ` (exclusionList: not RE2, ignored: ${rule.exclusions.invalid.join('; ')})` : '';
      if (tag === undefined) return yes(`any tag${ignored}`);
      const pattern = rule.exclusions.excluding(tag);
      return pattern === undefined ? yes(`tag ${tag}${ignored}`) : no(`tag ${tag} is excluded by exclusionList ${pattern}`);
    }
  }
}

function refNames(pushed: PushedRef): { branch?: string; tag?: string } {
  if (pushed.branch !== undefined || pushed.tag !== undefined) return { branch: pushed.branch, tag: pushed.tag };
  if (pushed.ref?.startsWith('refs/heads/')) return { branch: pushed.ref.slice(11) };
  if (pushed.ref?.startsWith('refs/tags/')) return { tag: pushed.ref.slice(10) };
  return {};
}

function short(id: string): string {
  const bare = id.startsWith('sha256:') ? id.slice(7) : id;
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}
