/**
 * Text from outside (a payload, a header, a cluster object, an error) as fluxgate records, logs and shows it:
 * cut to a documented length, and with the characters a terminal or a browser acts on instead of showing made
 * visible.
 */

/**
 * The longest value fluxgate records, logs or shows, in UTF-16 code units (JavaScript characters), the mark of a
 * cut included. Long enough for any real repository URL, ref, commit, delivery id or error; a longer one is a
 * mistake or an attack, and keeping it whole made every page, API answer and log line carry it.
 */
export const SHOWN_CHARACTERS = 1024;

/**
 * `value` when it is at most `max` characters long, else its start followed by `… (cut from N characters)`, `max`
 * characters in all. The cut value is a copy: a short piece of a 1.3 MB payload string would otherwise keep the
 * whole string alive (the engine shares the characters of a slice with its source).
 *
 * @example cutText('x'.repeat(5000)) // 'xxx…x… (cut from 5000 characters)', 1024 characters
 */
export function cutText(value: string, max: number = SHOWN_CHARACTERS): string {
  if (value.length <= max) return value;
  const mark = `… (cut from ${value.length} characters)`;
  let end = Math.max(0, max - mark.length);
  // Never half of a surrogate pair.
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return Buffer.from(value.slice(0, end) + mark, 'utf16le').toString('utf16le');
}

/** `cutText` for an optional value. */
export function cutOptional(value: string | undefined): string | undefined {
  return value === undefined ? undefined : cutText(value);
}

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
