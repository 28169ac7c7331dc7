/**
 * Whether a revision an object reports names the pushed commit. Flux writes `<ref>@sha1:<sha>` (older releases
 * `<branch>/<sha>`), OCI `<tag>@sha256:<digest>`, a Helm chart built from Git `<version>+<first 12 of the sha>`;
 * Argo CD the bare sha. The event's commit is a sha, or for registry events `sha256:<digest>`.
 */

/** Hex runs this long at least count as a hash: a 7-character abbreviation is the shortest Git shows. */
const MIN_HASH = 7;

/**
 * @example namesCommit('main@sha1:5c1f9e0a…', '5c1f9e0a…') // true
 * @example namesCommit('1.2.3+5c1f9e0a1b2c', '5c1f9e0a1b2c3d…') // true
 * @example namesCommit('latest@sha256:ab12…', 'sha256:ab12…') // true
 */
export function namesCommit(revision: string | undefined, commit: string | undefined): boolean {
  if (revision === undefined || commit === undefined) return false;
  const wanted = bareHash(commit);
  if (wanted === undefined) return revision === commit;
  for (const token of hashesIn(revision)) {
    if (token === wanted) return true;
    // An abbreviation either way: a chart version carries 12 characters, an event may carry a short sha.
    if (token.length < wanted.length ? wanted.startsWith(token) : token.startsWith(wanted)) return true;
  }
  return false;
}

/** The commit as lower-case hex without an algorithm prefix; undefined when it is no hash. */
export function bareHash(commit: string): string | undefined {
  const hex = commit.replace(/^sha(1|256|512):/i, '').toLowerCase();
  return hex.length >= MIN_HASH && /^[0-9a-f]+$/.test(hex) ? hex : undefined;
}

/** The hex runs of `revision` that stand alone (bounded by anything but letters and digits). */
function hashesIn(revision: string): string[] {
  const found: string[] = [];
  for (const match of revision.slice(0, 512).toLowerCase().matchAll(/(?<![0-9a-z])[0-9a-f]{7,}(?![0-9a-z])/g)) found.push(match[0]);
  return found;
}
