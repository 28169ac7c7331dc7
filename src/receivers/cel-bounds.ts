/**
 * The size bound on what a CEL expression builds, enforced in the evaluator's worker (cel-worker.ts) before the
 * memory is taken.
 *
 * The compile-time rules (cel-filter.ts) keep every operation linear in its operands, except two native ones
 * that @marcbachmann/cel-js calls and offers no hook for: `list.join(sep)` builds `size(list) × size(sep)`
 * characters (1,000 one-character pieces joined with a 1 MB separator: 1 GB), and `string.split(sep)` makes a
 * list as long as its string. Both run as one native call that neither a timer nor `Worker.terminate()`
 * interrupts (measured: a 2 GB join ran to its end, 4 s after terminate), so the bound has to be checked
 * before them: the worker's realm gets an `Array.prototype.join` and a `String.prototype.split` that work out
 * the size of their result first and throw when it is past the bound. The worker runs nothing but CEL, so this
 * changes no other code; the main thread's built-ins are untouched.
 *
 * A bound that was hit is remembered until `reset()`: CEL's `||` and `&&` absorb an error (`error || true` is
 * true), and a delivery whose filter went past a bound must fail, not be decided by what was left.
 */

/** The most characters a string an expression builds with `join()` may have. */
export const BUILT_STRING_LIMIT = 1_048_576;
/** The most elements a list an expression builds with `split()` may have. */
export const BUILT_LIST_LIMIT = 100_000;

export interface ValueBounds {
  /** Forgets a bound hit before (at the start of each job). */
  reset(): void;
  /** Why the last evaluation went past a bound, if it did. */
  exceeded(): string | undefined;
}

/** Characters `list.join(separator)` would build, counting only until `limit` is passed. */
function joinedLength(list: ArrayLike<unknown>, separator: string, limit: number): number {
  let length = Math.max(0, list.length - 1) * separator.length;
  for (let index = 0; index < list.length && length <= limit; index += 1) {
    const item = list[index];
    // CEL joins only strings; the library's own joins (messages) are of short strings and numbers.
    if (typeof item === 'string') length += item.length;
  }
  return length;
}

/** Pieces `text.split(separator)` would make, counting only until `limit` is passed. */
function pieceCount(text: string, separator: string, limit: number): number {
  if (separator === '') return text.length;
  let pieces = 1;
  for (let at = text.indexOf(separator); at >= 0 && pieces <= limit; at = text.indexOf(separator, at + separator.length)) pieces += 1;
  return pieces;
}

/**
 * Puts the bound on this realm's `Array.prototype.join` and `String.prototype.split`. Call it only in the
 * evaluator's worker, once.
 *
 * @example
 * const bounds = installValueBounds();
 * bounds.reset();
 * try { 'abc'.split('').join('x'.repeat(2_000_000)); } catch {}
 * bounds.exceeded(); // 'join() would build a string of more than 1048576 characters'
 */
export function installValueBounds(): ValueBounds {
  const join = Array.prototype.join;
  const split = String.prototype.split;
  let exceeded: string | undefined;
  const refuse = (reason: string): never => {
    exceeded ??= reason;
    throw new RangeError(reason);
  };
  Array.prototype.join = function boundedJoin(this: ArrayLike<unknown>, separator?: string): string {
    if (joinedLength(this, separator === undefined ? ',' : String(separator), BUILT_STRING_LIMIT) > BUILT_STRING_LIMIT) {
      refuse(`join() would build a string of more than ${BUILT_STRING_LIMIT} characters`);
    }
    return join.call(this, separator);
  };
  String.prototype.split = function boundedSplit(this: string, separator: unknown, limit?: number): string[] {
    const most = limit === undefined ? Infinity : limit >>> 0;
    if (typeof separator === 'string' && most > BUILT_LIST_LIMIT && pieceCount(String(this), separator, BUILT_LIST_LIMIT) > BUILT_LIST_LIMIT) {
      refuse(`split() would build a list of more than ${BUILT_LIST_LIMIT} elements`);
    }
    return (split as (this: string, separator: unknown, limit?: number) => string[]).call(this, separator, limit);
  } as typeof String.prototype.split;
  return {
    reset: () => void (exceeded = undefined),
    exceeded: () => exceeded,
  };
}
