/** Globs as fluxgate's config writes them (branches, tags, paths, repositories, images, token claims). */

/**
 * Characters and forms that make a pattern a glob for Bun.Glob (`*`, `**`, `?`, `[...]`, `{a,b}`, extglobs). A
 * leading `!` counts too, so that `compileGlob` rejects it rather than comparing it literally.
 */
const GLOB_SYNTAX = /[*?[{]|[@+!]\(|^!/;

/**
 * Whether `pattern` uses glob syntax; other patterns are compared literally.
 *
 * @example
 * isGlobPattern('release/*'); // true
 * isGlobPattern('main');      // false
 */
export function isGlobPattern(pattern: string): boolean {
  return GLOB_SYNTAX.test(pattern);
}

/**
 * Compiles one glob (or literal) once, for a matcher that runs on every webhook. Bun.Glob semantics: `*` and
 * `?` never cross `/`, `**` spans any number of segments (including none between slashes), `{a,b}` and `[ab]`
 * work, dots are not special, matching is case-sensitive. Throws on a leading `!` (negation would turn an
 * any-of list into "almost everything") and on an unclosed `{` or `[`, which Bun.Glob silently never matches.
 *
 * @example
 * compileGlob('release/*')('release/1.2');   // true
 * compileGlob('release/*')('release/1/hot'); // false — use `release/**`
 */
export function compileGlob(pattern: string): (value: string) => boolean {
  if (pattern.startsWith('!') && !pattern.startsWith('!(')) {
    throw new Error(`invalid pattern "${pattern}": negation ("!") is not supported; list what to match instead`);
  }
  const unclosed = unclosedBracket(pattern);
  if (unclosed) throw new Error(`invalid pattern "${pattern}": unclosed "${unclosed}"`);
  if (!isGlobPattern(pattern)) return (value) => value === pattern;
  const glob = new Bun.Glob(pattern);
  return (value) => glob.match(value);
}

/** The first `{` or `[` left open, honouring backslash escapes. */
function unclosedBracket(pattern: string): string | undefined {
  let braces = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '{') braces++;
    else if (c === '}' && braces > 0) braces--;
  }
  return inClass ? '[' : braces > 0 ? '{' : undefined;
}
