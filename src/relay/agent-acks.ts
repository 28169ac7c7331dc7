/**
 * The agent's acknowledgements: `POST /relay/v1/ack {"id": …}` for the last event its journal has. An
 * acknowledgement covers everything before it, so one request at a time carries the latest id: a burst of events
 * costs a few requests, not one each; one that fails is sent again (the latest by then) after a wait.
 */
import { backoffDelay, type Clock } from '../core/index.ts';
import { ACK_PATH } from './wire.ts';

export interface AckOptions {
  url: string;
  credential: string;
  caPem?: string;
  clock: Clock;
  random: () => number;
  /** An acknowledgement the edge did not take (logged, counted; the next one covers it). */
  failed(error: string): void;
  /** The edge took this id. */
  taken(id: string): void;
}

export interface AckSender {
  acknowledge(id: string): void;
  /** The last id the edge took. */
  last(): string | undefined;
  stop(): void;
}

const RETRY = { maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 500, maxDelayMs: 10_000 };
const TIMEOUT_MS = 10_000;

/**
 * @example
 * const acks = createAckSender({ url, credential, clock, random: Math.random, failed, taken });
 * acks.acknowledge('lqz3k2-42');
 */
export function createAckSender(options: AckOptions): AckSender {
  let wanted: string | undefined;
  let taken: string | undefined;
  let sending = false;
  let failures = 0;
  let stopped = false;
  let timer: unknown;
  const send = async (): Promise<void> => {
    if (sending || stopped || wanted === undefined || wanted === taken) return;
    sending = true;
    const id = wanted;
    try {
      const response = await fetch(`${options.url.replace(/\/+$/, '')}${ACK_PATH}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.credential}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        ...(options.caPem ? { tls: { ca: options.caPem } } : {}),
      });
      const text = await response.text();
      // 409: an id of a stream the edge no longer has; the next connection starts over (with a gap).
      if (!response.ok && response.status !== 409) throw new Error(`${response.status} ${text.slice(0, 200)}`);
      failures = 0;
      if (response.ok) {
        taken = id;
        options.taken(id);
      }
    } catch (error) {
      failures += 1;
      options.failed((error as Error).message);
      sending = false;
      timer = options.clock.setTimer(() => void send(), backoffDelay({ ...RETRY, random: options.random }, failures));
      return;
    }
    sending = false;
    if (wanted !== id) void send();
  };
  return {
    acknowledge(id) {
      wanted = id;
      void send();
    },
    last: () => taken,
    stop() {
      stopped = true;
      options.clock.clearTimer(timer);
    },
  };
}
