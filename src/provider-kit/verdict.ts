/** Building blocks of a VerifyResult, shared by every verifier in the kit. */
import type { VerifyResult } from './contract.ts';

export const OK: VerifyResult = { ok: true };

export function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

/** A value from a header or a token, shown in a reason only when it is short and plain (senders control it). */
export function printable(value: string, pattern = /^[A-Za-z0-9_.:/-]{1,64}$/): string | undefined {
  return pattern.test(value) ? value : undefined;
}
