/** Constant-time comparison for signatures and tokens. */
import { timingSafeEqual } from 'node:crypto';

/**
 * Whether two strings are equal, in time that depends only on their length. The length may leak: for a hex
 * or base64 digest it is fixed by the algorithm, and a token's length is not its secret.
 *
 * @example safeEqual(given, expected) // false, in the same time wherever the first difference is
 */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
