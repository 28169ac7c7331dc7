/**
 * Argo CD's `argocd.argoproj.io/manifest-generate-paths` annotation, read as argocd-server's webhook handler reads
 * it (util/app/path: GetAppRefreshPaths, AppFilesHaveChanged), so that an Application fluxgate discovers is
 * refreshed by exactly the pushes Argo CD's own `/api/webhook` would refresh it for:
 *
 * - the value is split on `;`; empty items are skipped, nothing is trimmed;
 * - an absolute item (`/shared`) is a path from the repository's root (its leading `/` dropped, nothing else);
 * - a relative item is joined to the `path` of the source the push is for (the one with the pushed repository and
 *   revision) and cleaned: `.` is that path, `..` its parent (Argo CD 3's GetSourceRefreshPaths);
 * - a push concerns the Application when one changed file is one of those paths, or lies in (or under) one of them
 *   as a directory, or matches one as a Go `filepath.Match` pattern (`*`, `?`, `[a-z]`, `\`; never across `/`);
 * - a push whose changed files are unknown or none concerns it (Argo CD: "the payload didn't include a list of
 *   changed files").
 */
import { posix } from 'node:path';

export const MANIFEST_GENERATE_PATHS_ANNOTATION = 'argocd.argoproj.io/manifest-generate-paths';

/** Items one annotation may hold: a push costs changed paths × items per Application (fluxgate.io/paths has the same cap). */
const MAX_ITEMS = 64;

export type RefreshPaths = { annotation: string; concerns: (changedPaths: readonly string[] | undefined) => boolean } | { invalid: string };

/** Go's filepath.Clean for slash paths: no trailing `/`, `.` for empty. */
function clean(path: string): string {
  if (path === '') return '.';
  const normalized = posix.normalize(path);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/** Go's filepath.Dir: all but the last element, cleaned. */
const dir = (path: string) => clean(path.slice(0, path.lastIndexOf('/') + 1));

const absolute = (path: string) => (path.startsWith('/') ? path : `/${path}`);

/** security.EnforceToCurrentRoot's test: the file's directory is `root` or below it. */
function inDirectory(root: string, file: string): boolean {
  const base = clean(root);
  const parent = dir(file);
  return base === '/' || parent === base || parent.startsWith(`${base}/`);
}

/**
 * Go's filepath.Match as one anchored RegExp, or undefined for a pattern Go calls malformed (which never matches).
 * Go's grammar, not a shell glob's: no `**`, no `{a,b}`, `[^…]` negates and `[!…]` does not.
 */
export function goPattern(pattern: string): RegExp | undefined {
  let source = '';
  const literal = (char: string) => `\\u{${char.codePointAt(0)!.toString(16)}}`;
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '\\') {
      if (++i >= chars.length) return undefined;
      source += literal(chars[i]!);
    } else if (char === '[') {
      const parsed = characterClass(chars, i + 1, literal);
      if (!parsed) return undefined;
      source += parsed.source;
      i = parsed.end;
    } else source += literal(char);
  }
  return new RegExp(`^${source}$`, 'u');
}

/** One `[...]` from `chars[start]` (after the `[`): its RegExp and the index of its `]`; undefined when malformed. */
function characterClass(chars: string[], start: number, literal: (char: string) => string): { source: string; end: number } | undefined {
  let i = start;
  const negated = chars[i] === '^';
  if (negated) i++;
  // One character of a range, with Go's rule: an unescaped `-` or `]` cannot start or end one.
  const escaped = (): string | undefined => {
    let char = chars[i];
    if (char === undefined || char === '-' || char === ']') return undefined;
    if (char === '\\') char = chars[++i];
    if (char === undefined) return undefined;
    i++;
    return char;
  };
  let ranges = '';
  let count = 0;
  while (chars[i] !== ']' || count === 0) {
    const low = escaped();
    if (low === undefined) return undefined;
    let high = low;
    if (chars[i] === '-') {
      i++;
      const end = escaped();
      if (end === undefined) return undefined;
      high = end;
    }
    if (low.codePointAt(0)! > high.codePointAt(0)!) return undefined;
    ranges += low === high ? literal(low) : `${literal(low)}-${literal(high)}`;
    count++;
  }
  return { source: `[${negated ? '^' : ''}${ranges}]`, end: i };
}

/**
 * The refresh paths of one source of an Application (its `path`: `sourcePath`), and the test argocd-server applies
 * to a push's changed files. Undefined when there is no annotation or it is empty.
 *
 * @example
 * refreshPaths('.;/shared', 'apps/web')!.concerns(['apps/web/deploy.yaml']); // true
 * refreshPaths('.;/shared', 'apps/web')!.concerns(['apps/api/deploy.yaml']); // false
 */
export function refreshPaths(annotation: string | undefined, sourcePath: unknown): RefreshPaths | undefined {
  if (annotation === undefined || annotation === '') return undefined;
  const items = annotation.split(';').filter((item) => item !== '');
  if (items.length > MAX_ITEMS) return { invalid: `${MANIFEST_GENERATE_PATHS_ANNOTATION} has more than ${MAX_ITEMS} paths` };
  const base = typeof sourcePath === 'string' ? sourcePath : '';
  const paths = items.map((item) => (item.startsWith('/') ? item.slice(1) : clean(posix.join(base, item))));
  const roots = paths.map((path) => ({ path: absolute(path), pattern: goPattern(absolute(path)) }));
  return {
    annotation,
    concerns(changedPaths) {
      if (changedPaths === undefined || changedPaths.length === 0 || roots.length === 0) return true;
      return changedPaths.some((changed) => {
        const file = absolute(changed);
        return roots.some((root) => file === root.path || inDirectory(root.path, file) || root.pattern?.test(file) === true);
      });
    },
  };
}
