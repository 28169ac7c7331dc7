/**
 * One connection of an agent to its edge: `GET /relay/v1/events` with the credential and the last event it had,
 * read frame by frame. A frame is handed on only once its signature checks out, and the next chunk is read only
 * after the frames of the last one were handled, so a busy agent slows its own stream (TCP pushes back on the
 * edge), never buffers it. A stream that stays silent past `idleMs` is cut (the edge sends a `sync` every heartbeat).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Clock } from '../core/index.ts';
import { verifyEvent } from './credentials.ts';
import { EVENTS_PATH, type FrameType } from './wire.ts';

export interface Frame {
  id?: string;
  type: FrameType;
  /** The JSON, once its signature was checked. */
  data: string;
}

/** How a connection ended, for the log, the status and the wait before the next one. */
export type ConnectionEnd =
  | { kind: 'refused'; status: number; error: string; retryAfterMs?: number }
  | { kind: 'unreachable'; error: string }
  | { kind: 'ended'; error: string }
  | { kind: 'unverified'; error: string }
  /** The agent could not take an event (its queue full, its store unwritable): it waits and resumes. */
  | { kind: 'busy'; error: string }
  | { kind: 'stopped' };

/** Thrown by a frame handler that could not take the frame: the connection ends, and resumes after a wait. */
export class NotTaken extends Error {}

export interface ConnectOptions {
  url: string;
  credential: string;
  signing: Buffer;
  lastEventId?: string;
  caPem?: string;
  /** Cut the stream when nothing came for this long (read at each frame: the edge's hello says its heartbeat). */
  idleMs(): number;
  /** A frame larger than this ends the connection (the edge bounds its events well below it). */
  maxFrameBytes: number;
  signal: AbortSignal;
  clock: Clock;
  /** Handles each verified frame in order; the next is read once it resolves. Throws to end the connection. */
  frame(frame: Frame): Promise<void>;
}

const KNOWN_TYPES = new Set<string>(['hello', 'event', 'gap', 'sync']);

/**
 * @example
 * const end = await connectUpstream({ url: 'https://hooks.example.com', credential, signing, idleMs: () => 45_000, maxFrameBytes: 4 << 20, signal, frame: handle });
 */
export async function connectUpstream(options: ConnectOptions): Promise<ConnectionEnd> {
  const aborter = new AbortController();
  const stop = () => aborter.abort();
  options.signal.addEventListener('abort', stop, { once: true });
  let idle: unknown;
  const alive = () => {
    options.clock.clearTimer(idle);
    idle = options.clock.setTimer(stop, options.idleMs());
  };
  try {
    alive();
    const response = await openStream(options, aborter.signal);
    if (!response.ok || !response.body) return await refusal(response);
    return await readFrames(response.body, options, alive);
  } catch (error) {
    if (options.signal.aborted) return { kind: 'stopped' };
    if (aborter.signal.aborted) return { kind: 'ended', error: `nothing received for ${Math.round(options.idleMs() / 1000)} s` };
    if (error instanceof Unverified) return { kind: 'unverified', error: error.message };
    if (error instanceof NotTaken) return { kind: 'busy', error: error.message };
    return { kind: 'unreachable', error: (error as Error).message };
  } finally {
    options.clock.clearTimer(idle);
    options.signal.removeEventListener('abort', stop);
    aborter.abort();
  }
}

function openStream(options: ConnectOptions, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${options.credential}` };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  return fetch(`${options.url.replace(/\/+$/, '')}${EVENTS_PATH}`, { headers, signal, redirect: 'error', ...(options.caPem ? { tls: { ca: options.caPem } } : {}) });
}

async function refusal(response: Response): Promise<ConnectionEnd> {
  const text = (await response.text().catch(() => '')).slice(0, 500);
  let error = text;
  try {
    error = (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    // not JSON: the text as it is (a proxy's page)
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return { kind: 'refused', status: response.status, error: error || response.statusText, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
}

class Unverified extends Error {}

/** Reads the stream to its end: each chunk parsed, its frames checked and handled before the next chunk is read. */
async function readFrames(body: ReadableStream<Uint8Array>, options: ConnectOptions, alive: () => void): Promise<ConnectionEnd> {
  const frames: EventSourceMessage[] = [];
  let failure: Error | undefined;
  const parser = createParser({
    maxBufferSize: options.maxFrameBytes,
    onEvent: (message) => void frames.push(message),
    onError: (error) => void (failure ??= error),
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    alive();
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (failure) return { kind: 'ended', error: `the stream is not Server-Sent Events as the edge writes them: ${failure.message}` };
    while (frames.length > 0) {
      await options.frame(verified(frames.shift()!, options.signing));
      alive();
    }
  }
  return { kind: 'ended', error: 'the edge closed the stream' };
}

/** The frame with its signature checked: `data` is the signature's line, then the JSON. */
function verified(message: EventSourceMessage, key: Buffer): Frame {
  const type = message.event ?? 'message';
  if (!KNOWN_TYPES.has(type)) throw new Unverified(`unknown frame type "${type.slice(0, 40)}"`);
  const newline = message.data.indexOf('\n');
  const signature = newline < 0 ? '' : message.data.slice(0, newline);
  const data = newline < 0 ? message.data : message.data.slice(newline + 1);
  if (!verifyEvent(key, message.id ?? '', type, data, signature)) throw new Unverified(`a ${type} frame${message.id ? ` (${message.id.slice(0, 40)})` : ''} is not signed with this agent's key: is upstream.token the subscriber's, and does a proxy rewrite the stream?`);
  return { ...(message.id !== undefined ? { id: message.id } : {}), type: type as FrameType, data };
}
