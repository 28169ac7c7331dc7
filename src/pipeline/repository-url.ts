/**
 * Repository identity: turns the many spellings of one repository (slug, https, ssh, scp-like, git://, Azure
 * DevOps forms) into one comparable `{ host?, path }`, and compiles `match.repository` patterns against it.
 *
 * Rules (all inputs are lowercased first, because every major host treats owner and repo names
 * case-insensitively):
 * - `scheme://[user@]host[:port]/path` — userinfo and port dropped.
 * - `[user@]host:path` (scp-like, git's rule: no `/` before the first `:`) — with a user, what follows the
 *   colon is always path, as git reads it (`git@github.com:1234/repo` is org `1234`); without a user,
 *   `host:NNNN/path` is read as host and port, because that is how people write it in a config.
 * - no scheme and no colon — a slug (`org/repo`, `group/subgroup/repo`), unless the first segment contains a
 *   dot, in which case it is a host (`github.com/org/repo`). GitHub orgs cannot contain dots; a GitLab group
 *   that does must be written as a full URL.
 * - path: percent-decoded, empty segments dropped (leading, trailing, doubled slashes), `.git` dropped from
 *   the last segment, a `_git` segment before the last one dropped (Azure DevOps / TFS web and clone URLs).
 * - host: a leading `www.`, `ssh.` or `altssh.` label dropped (`ssh.github.com`, `altssh.gitlab.com`,
 *   `ssh.dev.azure.com` are the same hosts on another port).
 * - Azure DevOps: `dev.azure.com/org/project/_git/repo`, `org@dev.azure.com/...`,
 *   `git@ssh.dev.azure.com:v3/org/project/repo`, `vs-ssh.visualstudio.com:v3/...` and
 *   `org.visualstudio.com/[DefaultCollection/]project/_git/repo` all become `dev.azure.com` +
 *   `org/project/repo`; `dev.azure.com/org/_git/repo` (repo named like its project) becomes `org/repo/repo`.
 */

import { compileGlob, isGlobPattern } from '../core/index.ts';

/** A repository reduced to what identifies it. `host` is absent for a bare slug. */
export interface NormalizedRepository {
  host?: string;
  path: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//;
/** git's scp-like syntax: `[user@]host:path` with no slash before the colon. */
const SCP_LIKE = /^(?:([^@/]+)@)?([^@/:]+):(.*)$/;
const PORT_PREFIX = /^\d{1,5}(?=\/|$)/;
const HOST_ALIAS_LABEL = /^(?:www|ssh|altssh)\./;
const VISUALSTUDIO_ORG = /^([^.]+)\.visualstudio\.com$/;
const AZURE_HOST = 'dev.azure.com';

/**
 * Normalizes any spelling of a repository to a lowercase host (when the input names one) and path.
 * Never throws: payload values that cannot be read give an empty path, which matches nothing.
 *
 * @example
 * normalizeRepository('ssh://git@ssh.github.com:443/My-Org/Repo.git'); // { host: 'github.com', path: 'my-org/repo' }
 * normalizeRepository('My-Org/Repo');                                    // { path: 'my-org/repo' }
 * normalizeRepository('git@ssh.dev.azure.com:v3/org/proj/repo');          // { host: 'dev.azure.com', path: 'org/proj/repo' }
 */
export function normalizeRepository(input: string): NormalizedRepository {
  const { host, path } = split(input.trim().toLowerCase());
  return host === undefined ? { path: normalizePath(path).join('/') } : normalizeHosted(host, normalizePath(path));
}

/** Splits into raw host and raw path without touching glob characters, so patterns can share the parser. */
function split(input: string): { host?: string; path: string } {
  if (SCHEME.test(input)) {
    const rest = input.slice(input.indexOf('://') + 3);
    const slash = rest.indexOf('/');
    const authority = slash === -1 ? rest : rest.slice(0, slash);
    return { host: hostOf(authority), path: slash === -1 ? '' : rest.slice(slash) };
  }
  const scp = SCP_LIKE.exec(input);
  if (scp) {
    const [, user, host = '', rest = ''] = scp;
    // Without a user, `host:3000/org/repo` is a port; with one, git reads the digits as the first path segment.
    const port = user === undefined ? PORT_PREFIX.exec(rest) : null;
    return { host, path: port ? rest.slice(port[0].length) : rest };
  }
  const segments = input.split('/').filter(Boolean);
  const first = segments[0];
  if (first !== undefined && segments.length > 1 && first.includes('.')) {
    return { host: first, path: segments.slice(1).join('/') };
  }
  return { path: input };
}

/** `user:pass@host:port` → `host`; keeps `[ipv6]` brackets intact. */
function hostOf(authority: string): string {
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1);
  const colon = hostPort.indexOf(':');
  return colon === -1 ? hostPort : hostPort.slice(0, colon);
}

function normalizePath(raw: string): string[] {
  const segments = decode(raw).split('/').filter(Boolean);
  const last = segments.length - 1;
  const tail = segments[last];
  if (tail !== undefined && tail.endsWith('.git') && tail.length > 4) segments[last] = tail.slice(0, -4);
  // Azure DevOps and TFS put `_git` before the repository name in web and https clone URLs.
  if (segments.length >= 2 && segments[segments.length - 2] === '_git') segments.splice(segments.length - 2, 1);
  return segments;
}

function normalizeHosted(rawHost: string, segments: string[]): NormalizedRepository {
  let host = rawHost;
  // Strip one alias label only while a real domain remains (`ssh.corp` stays `ssh.corp`).
  while (HOST_ALIAS_LABEL.test(host) && host.indexOf('.') !== host.lastIndexOf('.')) {
    host = host.slice(host.indexOf('.') + 1);
  }
  if (host === 'vs-ssh.visualstudio.com') host = AZURE_HOST;
  const legacyOrg = VISUALSTUDIO_ORG.exec(host)?.[1];
  if (legacyOrg !== undefined) {
    host = AZURE_HOST;
    if (segments[0] === 'defaultcollection') segments.shift();
    segments.unshift(legacyOrg);
  } else if (host === AZURE_HOST && segments[0] === 'v3') {
    segments.shift(); // SSH form: git@ssh.dev.azure.com:v3/org/project/repo
  }
  if (host === AZURE_HOST && segments.length === 2) {
    // `dev.azure.com/org/_git/repo` is the short form for a repository named like its project.
    const [org = '', repo = ''] = segments;
    segments.splice(0, 2, org, repo, repo);
  }
  return { host, path: segments.join('/') };
}

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a stray `%` is just a character
  }
}

/**
 * Compiles a `match.repository` pattern once; the returned function tells whether ANY of an event's repository
 * spellings matches. Case-insensitive.
 * - slug (`org/repo`): the path must equal it, on any host;
 * - URL or `host/path`: host and path must both equal it; a bare slug candidate (no host) never matches,
 *   because it cannot prove the host — payloads always carry a URL as well;
 * - glob: matched with Bun.Glob against `host/path` when the pattern names a host, else against the path
 *   (`my-org/*`, `github.com/my-org/**`, `gitlab.com/group/**`, or `*` + `/infra-*` for any org's infra repos).
 * Throws when the pattern names no repository or is a malformed glob. `normalize` may be a cache shared by many
 * matchers (one per config), so a push's spellings are parsed once for all of them.
 *
 * @example
 * const matches = repositoryMatcher('github.com/my-org/*');
 * matches(['git@github.com:My-Org/app.git']); // true
 * matches(['https://gitlab.com/my-org/app']);  // false
 */
export function repositoryMatcher(pattern: string, normalize: (input: string) => NormalizedRepository = cachedNormalizer()): (candidates: readonly string[]) => boolean {
  const wanted = compileRepositoryPattern(pattern);
  return (candidates) => repositoryMatches(wanted, candidates, normalize);
}

/**
 * A `match.repository` pattern, compiled: plain data that `repositoryMatches` reads, so a config of 10,000
 * targets holds 10,000 small records rather than 10,000 chains of closures (a closure and its scope cost about
 * as much as the record itself, several times over). `glob` is set for a glob pattern.
 */
export interface RepositoryPattern {
  readonly pattern: string;
  readonly host: string | undefined;
  readonly path: string;
  readonly glob?: (value: string) => boolean;
}

/** Throws when the pattern names no repository or is a malformed glob (see repositoryMatcher). */
export function compileRepositoryPattern(pattern: string): RepositoryPattern {
  const { host, path } = normalizeRepository(pattern);
  if (path === '') throw new Error(`invalid repository "${pattern}": it names no repository path`);
  if (!isGlobPattern(pattern)) return { pattern, host, path };
  return { pattern, host, path, glob: compileGlob(host === undefined ? path : `${host}/${path}`) };
}

/** Whether any of an event's repository spellings matches `wanted` (see repositoryMatcher). */
export function repositoryMatches(wanted: RepositoryPattern, candidates: readonly string[], normalize: (input: string) => NormalizedRepository): boolean {
  const { host, path, glob } = wanted;
  for (const candidate of candidates) {
    const c = normalize(candidate);
    if (glob === undefined) {
      if (c.path === path && (host === undefined || c.host === host)) return true;
    } else if (c.path !== '' && (host === undefined ? glob(c.path) : c.host !== undefined && glob(`${c.host}/${c.path}`))) return true;
  }
  return false;
}

/** Repositories repeat from one webhook to the next; this many spellings are kept per cache. */
const spellingCacheSize = 512;
/** Longer spellings are not kept: no real URL is this long, and 512 payload-sized ones would hold hundreds of MB. */
const cachedSpellingLength = 1024;

/**
 * `make` for repository spellings, with a small cache, so the webhook path does not re-parse the same URLs on
 * every push. The cache is dropped whole when full: simpler than LRU, and a burst of new names costs one
 * re-parse each. A spelling longer than any real URL is parsed each time and not kept.
 *
 * @example const keysOf = perSpelling((spelling) => keysFor(normalizeRepository(spelling)));
 */
export function perSpelling<T>(make: (spelling: string) => T): (spelling: string) => T {
  const cache = new Map<string, T>();
  return (spelling) => {
    if (spelling.length > cachedSpellingLength) return make(spelling);
    let value = cache.get(spelling);
    if (value === undefined) {
      if (cache.size >= spellingCacheSize) cache.clear();
      value = make(spelling);
      cache.set(spelling, value);
    }
    return value;
  };
}

/** normalizeRepository, cached per spelling. */
export function cachedNormalizer(): (input: string) => NormalizedRepository {
  return perSpelling(normalizeRepository);
}
