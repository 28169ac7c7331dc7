/** String helpers for values a sender chose: one pass over the string, whatever it holds. */

/**
 * `value` without the `character`s it ends with. `replace(/\/+$/, '')` does the same but backtracks: on a long run
 * of `/` followed by anything else it takes time quadratic in the run's length (seconds for 64 KiB).
 *
 * @example trimTrailing('https://git.example.com//', '/') // 'https://git.example.com'
 */
export function trimTrailing(value: string, character: string): string {
  let end = value.length;
  while (end > 0 && value[end - 1] === character) end--;
  return end === value.length ? value : value.slice(0, end);
}
