/**
 * When a push happened, for timing push → applied: the host's own timestamp where the payload carries a true push
 * time (GitHub's `repository.pushed_at`, a registry's event time), else the delivery's arrival. A payload's time is
 * believed only near the arrival — not after it (beyond a minute of clock skew) and not more than an hour before
 * (a redelivery days later would time the redelivery, not the push) — so a sender cannot skew the histograms.
 */

/** How far a payload's push time may precede the arrival. */
const MAX_BEFORE_MS = 60 * 60_000;
/** Clock skew tolerated after the arrival (the push time is then taken as the arrival). */
const MAX_AFTER_MS = 60_000;

export interface PushInstant {
  /** ms since the epoch. */
  at: number;
  /** Where it comes from: the payload's push time, or the delivery's arrival. */
  from: 'payload' | 'arrival';
}

/**
 * @example pushInstant(1_700_000_000_000, 1_700_000_002_000) // { at: 1700000000000, from: 'payload' }
 * @example pushInstant(undefined, 1_700_000_002_000) // { at: 1700000002000, from: 'arrival' }
 */
export function pushInstant(pushedAt: number | undefined, arrivedAt: number): PushInstant {
  if (pushedAt === undefined || !Number.isFinite(pushedAt)) return { at: arrivedAt, from: 'arrival' };
  if (pushedAt > arrivedAt + MAX_AFTER_MS || pushedAt < arrivedAt - MAX_BEFORE_MS) return { at: arrivedAt, from: 'arrival' };
  return { at: Math.min(pushedAt, arrivedAt), from: 'payload' };
}
