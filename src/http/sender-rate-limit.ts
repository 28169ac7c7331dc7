/**
 * `providers[].rateLimit`: a token bucket per provider and sender (the client address after trusted proxies), so
 * one noisy or hostile sender is answered 429 before its body is read, while other senders — and every other
 * provider's — go on. An IPv6 sender is its /64 (one host usually owns a whole /64 and could walk through it).
 * The senders of a provider are an LRU of at most `maxSenders`: forgetting one only gives it a full bucket back,
 * so a flood of addresses cannot grow memory, nor make a limit stricter for anyone.
 */
import { LRUCache } from 'lru-cache';
import { ipFamily } from '../core/index.ts';
import type { RateLimit } from '../config/index.ts';

/** Senders remembered per provider: about 100 bytes each. */
export const MAX_RATE_LIMITED_SENDERS = 10_000;

export type RateVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface SenderRateLimiter {
  /** Takes one token of `sender`'s bucket for `provider` at `now` (ms); undefined sender: the unknown ones share one. */
  take(provider: string, limit: Required<RateLimit>, sender: string | undefined, now: number): RateVerdict;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * @example
 * const limiter = createSenderRateLimiter();
 * limiter.take('github', { perSecond: 1, burst: 2 }, '192.0.2.7', Date.now()); // { ok: true }
 */
export function createSenderRateLimiter(maxSenders = MAX_RATE_LIMITED_SENDERS): SenderRateLimiter {
  // Per provider, with the limit its senders were counted under: a reload that changes it starts afresh.
  const providers = new Map<string, { limit: Required<RateLimit>; senders: LRUCache<string, Bucket> }>();
  return {
    take(provider, limit, sender, now) {
      let state = providers.get(provider);
      if (!state || state.limit.perSecond !== limit.perSecond || state.limit.burst !== limit.burst) {
        state = { limit, senders: new LRUCache<string, Bucket>({ max: maxSenders }) };
        providers.set(provider, state);
      }
      const key = senderKey(sender);
      const bucket = state.senders.get(key) ?? { tokens: limit.burst, at: now };
      // Refilled for the time since it was last seen (never more than the burst; a clock step back adds nothing).
      const tokens = Math.min(limit.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * limit.perSecond);
      if (tokens >= 1) {
        state.senders.set(key, { tokens: tokens - 1, at: now });
        return { ok: true };
      }
      state.senders.set(key, { tokens, at: now });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / limit.perSecond)) };
    },
  };
}

/** An IPv4 address as it is (an IPv4-mapped IPv6 one too), an IPv6 address as its /64, anything else as unknown. */
export function senderKey(sender: string | undefined): string {
  if (sender === undefined) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(sender);
  if (mapped) return mapped[1]!;
  const family = ipFamily(sender);
  if (family === 4) return sender;
  if (family !== 6) return '?';
  const [head = '', tail = ''] = sender.split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = sender.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
}
