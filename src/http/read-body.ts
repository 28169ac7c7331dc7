/**
 * Reads a request body within three bounds: its size (`maxBytes`), a budget shared by every body being read
 * at once, and a deadline. A declared Content-Length is checked and reserved before anything is read; a
 * chunked body is counted, and reserved, chunk by chunk as it arrives. The bytes reserved are given back
 * when the body is no longer held: at the end of the read, or for an abandoned read when the runtime lets
 * go of what it buffered (once the connection is closed).
 */
import type { BodyBudget } from './body-budget.ts';
import { declaredLength } from './route.ts';

/** Timers the deadline runs on (the gateway's clock, so tests move time instead of sleeping). */
export interface Timers {
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface BodyLimits {
  maxBytes: number;
  budget: BodyBudget;
  /** The whole body must have arrived this long after the read begins. */
  timeoutMs: number;
  timers: Timers;
}

/** Why a body was not read: over `maxBytes`, over the shared budget, too slow, or the sender went away. */
export type BodyRefusal = 'too-large' | 'over-budget' | 'timeout' | 'aborted';
export type BodyResult = { ok: true; body: Uint8Array } | { ok: false; refusal: BodyRefusal };

const empty = new Uint8Array(0);

/**
 * Answers the caller must close the connection on (every refusal) leave the rest of the body unread.
 * @example
 * const read = await readBody(request, { maxBytes: 4 << 20, budget, timeoutMs: 10_000, timers: systemClock });
 * if (!read.ok) return refuse(read.refusal); // 413, 503, 408, or nobody left to answer
 */
export async function readBody(request: Request, limits: BodyLimits): Promise<BodyResult> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limits.maxBytes) return { ok: false, refusal: 'too-large' };
  if (!request.body || declared === 0) return { ok: true, body: empty };
  if (declared === undefined) return readChunked(request.body, limits);
  if (!limits.budget.reserve(declared)) return { ok: false, refusal: 'over-budget' };
  return readDeclared(request, declared, limits);
}

/** Calls `onExpiry` after the timeout unless `stop` is called first. */
function deadline(limits: BodyLimits, onExpiry: () => void): { stop(): void } {
  const handle = limits.timers.setTimer(onExpiry, limits.timeoutMs);
  return { stop: () => limits.timers.clearTimer(handle) };
}

/**
 * With a fixed length the runtime's own read is the fastest and holds one buffer of exactly that size. It
 * cannot be cancelled: at the deadline the caller answers and closes the connection, which ends the read;
 * the reservation lasts until then, because so does the buffer.
 */
async function readDeclared(request: Request, declared: number, limits: BodyLimits): Promise<BodyResult> {
  const reading = request.arrayBuffer();
  const release = () => limits.budget.release(declared);
  reading.then(release, release);
  let expire = () => {};
  const expired = new Promise<'timeout'>((resolve) => (expire = () => resolve('timeout')));
  const timer = deadline(limits, expire);
  try {
    const result = await Promise.race([reading, expired]);
    return result === 'timeout' ? { ok: false, refusal: 'timeout' } : { ok: true, body: new Uint8Array(result) };
  } catch {
    // The connection closed before the body was complete.
    return { ok: false, refusal: 'aborted' };
  } finally {
    timer.stop();
  }
}

/** A chunked body is counted, and reserved, as each chunk arrives, and cut off as soon as it is too much. */
async function readChunked(body: ReadableStream<Uint8Array>, limits: BodyLimits): Promise<BodyResult> {
  const reader = body.getReader();
  // Cancelling ends a pending read() with done; the loop then reports the timeout.
  let expired = false;
  const timer = deadline(limits, () => {
    expired = true;
    void reader.cancel().catch(() => {});
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  const refuse = (refusal: BodyRefusal): BodyResult => {
    void reader.cancel().catch(() => {});
    return { ok: false, refusal };
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (expired) return refuse('timeout');
      if (done) break;
      if (size + value.byteLength > limits.maxBytes) return refuse('too-large');
      if (!limits.budget.reserve(value.byteLength)) return refuse('over-budget');
      size += value.byteLength;
      chunks.push(value);
    }
    return { ok: true, body: chunks.length === 1 ? chunks[0]! : join(chunks, size) };
  } catch {
    return { ok: false, refusal: expired ? 'timeout' : 'aborted' };
  } finally {
    timer.stop();
    limits.budget.release(size);
  }
}

function join(chunks: Uint8Array[], size: number): Uint8Array {
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
