/** "Did you mean" for config keys: the closest allowed name, only when it is close enough to be a typo. */
import leven from 'leven';

/**
 * The candidate nearest to `word` by edit distance (case-insensitive; swapping two neighbouring letters counts
 * as one edit), if it is within 1 edit for words of up to 3 letters, 2 up to 6 letters, else 3; `undefined`
 * when nothing is that close.
 *
 * @example
 * closestName('secert', ['secret', 'signingSecret', 'events']); // 'secret'
 * closestName('evn', ['env', 'file', 'value']); // 'env'
 * closestName('vault', ['env', 'file', 'value']); // undefined
 */
export function closestName(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const allowed = lower.length <= 3 ? 1 : lower.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - lower.length) > allowed) continue;
    const other = candidate.toLowerCase();
    const distance = isSwap(lower, other) ? 1 : leven(lower, other, { maxDistance: allowed + 1 });
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Whether `a` becomes `b` by swapping two neighbouring letters (the commonest typo, two edits for Levenshtein). */
function isSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let first = 0;
  while (first < a.length && a[first] === b[first]) first++;
  return first < a.length - 1 && a[first] === b[first + 1] && a[first + 1] === b[first] && a.slice(first + 2) === b.slice(first + 2);
}
