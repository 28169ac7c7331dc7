/**
 * Reads a request body within three bounds: its size (`maxBytes`), a budget shared by every body being read
 * at once, and a deadline. A declared Content-Length is checked and reserved before anything is read; a
 * chunked body is counted, and reserved, chunk by chunk as it arrives. The bytes reserved are given back
 * when the body is no longer held: at the end of the read, or for an abandoned read when the runtime lets
 * go of what it buffered (once the connection is closed).
 *
 * A body over `maxBytes` is read on to its end and thrown away, up to `drainBytes` in all, within the same
 * deadline and budget: a sender that writes its whole body before reading (most do) would otherwise be
 * closed on mid-write and see a reset instead of the 413. Past those bounds the caller closes at once.
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
  /** A body over `maxBytes` is still read, and thrown away, while the whole body stays within this many bytes. */
  drainBytes: number;
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
 * Every refusal may leave part of the body unread: the caller answers it with the connection closed.
 * @example
 * const read = await readBody(request, { maxBytes: 4 << 20, drainBytes: 8 << 20, budget, timeoutMs: 10_000, timers: systemClock });
 * if (!read.ok) return refuse(read.refusal); // 413, 503, 408, or nobody left to answer
 */
export async function readBody(request: Request, limits: BodyLimits): Promise<BodyResult> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limits.maxBytes) return drainDeclared(request.body, declared, limits);
  if (!request.body || declared === 0) return { ok: true, body: empty };
  if (declared === undefined) return readChunked(request.body, limits);
  if (!limits.budget.reserve(declared)) return { ok: false, refusal: 'over-budget' };
  return readDeclared(request, declared, limits);
}

const tooLarge: BodyResult = { ok: false, refusal: 'too-large' };

/** Calls `onExpiry` after the timeout unless `stop` is called first. */
function deadline(limits: BodyLimits, onExpiry: () => void): { stop(): void } {
  const handle = limits.timers.setTimer(onExpiry, limits.timeoutMs);
  return { stop: () => limits.timers.clearTimer(handle) };
}

/** A stream read under the deadline: at expiry the reader is cancelled, which ends a pending read() with done. */
function deadlineReader(body: ReadableStream<Uint8Array>, limits: BodyLimits) {
  const reader = body.getReader();
  let expired = false;
  const timer = deadline(limits, () => {
    expired = true;
    void reader.cancel().catch(() => {});
  });
  return {
    reader,
    expired: () => expired,
    /** Stops reading what is left (the caller closes the connection). */
    cancel: () => void reader.cancel().catch(() => {}),
    stop: () => timer.stop(),
  };
}

/**
 * Reads what is left of a refused body and throws it away, each chunk as it arrives, until the body ends or
 * `take` refuses a chunk, the deadline passes or the sender goes; then stops reading.
 */
async function discardRest(read: ReturnType<typeof deadlineReader>, take: (bytes: number) => boolean): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await read.reader.read();
      if (done || read.expired()) return;
      if (!take(value.byteLength)) return read.cancel();
    }
  } catch {
    // The sender went away: nobody is left to read the answer.
  }
}

/**
 * A declared length over the limit: the body is read and thrown away when it is within `drainBytes` and fits
 * in the budget (reserved whole, as a body read to be kept would be); otherwise nothing is read.
 */
async function drainDeclared(body: ReadableStream<Uint8Array> | null, declared: number, limits: BodyLimits): Promise<BodyResult> {
  if (!body || declared > limits.drainBytes || !limits.budget.reserve(declared)) return tooLarge;
  const read = deadlineReader(body, limits);
  try {
    await discardRest(read, () => true);
  } finally {
    read.stop();
    limits.budget.release(declared);
  }
  return tooLarge;
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

/**
 * A chunked body is counted, and reserved, as each chunk arrives. Once it passes `maxBytes` what was kept is
 * dropped and the rest is read and thrown away, still reserved chunk by chunk, within `drainBytes`.
 */
async function readChunked(body: ReadableStream<Uint8Array>, limits: BodyLimits): Promise<BodyResult> {
  const read = deadlineReader(body, limits);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const refuse = (refusal: BodyRefusal): BodyResult => {
    read.cancel();
    return { ok: false, refusal };
  };
  const take = (bytes: number): boolean => {
    if (size + bytes > limits.drainBytes || !limits.budget.reserve(bytes)) return false;
    size += bytes;
    return true;
  };
  try {
    for (;;) {
      const { done, value } = await read.reader.read();
      if (read.expired()) return refuse('timeout');
      if (done) break;
      if (size + value.byteLength > limits.maxBytes) {
        chunks.length = 0;
        if (take(value.byteLength)) await discardRest(read, take);
        else read.cancel();
        return tooLarge;
      }
      if (!limits.budget.reserve(value.byteLength)) return refuse('over-budget');
      size += value.byteLength;
      chunks.push(value);
    }
    return { ok: true, body: chunks.length === 1 ? chunks[0]! : join(chunks, size) };
  } catch {
    return { ok: false, refusal: read.expired() ? 'timeout' : 'aborted' };
  } finally {
    read.stop();
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
