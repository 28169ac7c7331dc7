/**
 * Text from outside (a payload, a header, a cluster object, an error) as fluxgate logs and shows it: with the
 * characters a terminal or a browser acts on instead of showing made visible.
 */

/**
 * Characters a terminal or a browser acts on rather than shows: C0 and C1 controls and DEL, the line and paragraph
 * separators, and the bidirectional marks, embeddings, overrides and isolates (which reorder what follows them).
 */
export const UNSAFE_CHARACTERS = '\\p{Cc}\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
/** One unsafe character. `UNSAFE_CHARACTERS` is the body of its class, for patterns that add characters to it. */
export const unsafeCharacter = new RegExp(`[${UNSAFE_CHARACTERS}]`, 'u');

/** `\u202e` for U+202E: how an unsafe character is shown. */
export function escapedCharacter(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every unsafe character written as `\uXXXX`.
 *
 * @example escapeUnsafe('main\u202egnp.exe') // 'main\\u202egnp.exe'
 */
export function escapeUnsafe(text: string): string {
  return unsafeCharacter.test(text) ? text.replace(new RegExp(unsafeCharacter.source, 'gu'), escapedCharacter) : text;
}
