/**
 * The total of request-body bytes being read at once, across all requests (`server.maxBodyBytesInFlight`).
 * Bodies are buffered before their signature can be checked, so without this bound unauthenticated senders
 * decide how much memory fluxgate holds.
 */
export interface BodyBudget {
  /** Takes `bytes` from the budget; false (and nothing taken) when they do not fit. */
  reserve(bytes: number): boolean;
  /** Gives back bytes taken by `reserve`. */
  release(bytes: number): void;
  /** Bytes reserved now. */
  inUse(): number;
  readonly limit: number;
}

/**
 * @example
 * const budget = createBodyBudget(32 * 1024 * 1024);
 * if (budget.reserve(declaredLength)) {
 *   try { await read(); } finally { budget.release(declaredLength); }
 * }
 */
export function createBodyBudget(limit: number): BodyBudget {
  let used = 0;
  return {
    limit,
    reserve(bytes) {
      if (used + bytes > limit) return false;
      used += bytes;
      return true;
    },
    release(bytes) {
      used -= bytes;
    },
    inUse: () => used,
  };
}
