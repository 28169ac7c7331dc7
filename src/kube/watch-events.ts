/**
 * Reads a Kubernetes watch body: one JSON event per line (`{"type":"ADDED","object":{…}}`). Memory is bounded:
 * a line longer than `maxLineBytes` is an error, never an ever-growing buffer (a proxy that sends no newline, or
 * an object far beyond what etcd stores, cannot make fluxgate hold it).
 */

/** One event as the API server sends it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: any;
}

/** A watch line fluxgate refuses to read (too long, not JSON, not an event). */
export class WatchStreamError extends Error {
  override name = 'WatchStreamError';
}

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/**
 * The events of a watch body, in order. Stopping early (a `break`, an abort, an error) cancels the body, so
 * the connection under it is released at once.
 *
 * @example
 * for await (const event of watchEvents(response.body!, 4 * 1024 * 1024)) console.log(event.type, event.object.metadata?.name);
 */
export async function* watchEvents(body: ReadableStream<Uint8Array>, maxLineBytes: number): AsyncGenerator<WatchEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  // The start of a line spread over several chunks; its length in UTF-16 units is close enough to bytes for a cap.
  let parts: string[] = [];
  let partial = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      let start = 0;
      // Only the new chunk is searched for newlines: a long line arriving in small chunks stays linear.
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        const line = partial > 0 ? parts.join('') + text.slice(start, end) : text.slice(start, end);
        if (line.length > maxLineBytes) throw tooLong(maxLineBytes);
        parts = [];
        partial = 0;
        start = end + 1;
        if (line.trim() !== '') yield parse(line);
      }
      if (start < text.length) {
        parts.push(text.slice(start));
        partial += text.length - start;
        if (partial > maxLineBytes) throw tooLong(maxLineBytes);
      }
    }
    const rest = parts.join('') + decoder.decode();
    if (rest.trim() !== '') yield parse(rest);
  } finally {
    // Ends the body (and its connection) however the loop was left; a body already finished ignores this.
    await reader.cancel().catch(() => undefined);
  }
}

function tooLong(maxLineBytes: number): WatchStreamError {
  return new WatchStreamError(`a watch event is larger than ${Math.round(maxLineBytes / 1024)} KiB: refused`);
}

function parse(line: string): WatchEvent {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    throw new WatchStreamError('a watch line is not JSON (is it a Kubernetes API server?)');
  }
  const { type, object } = (event ?? {}) as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !TYPES.has(type) || typeof object !== 'object' || object === null) {
    throw new WatchStreamError(`a watch line is not an event (type ${JSON.stringify(String(type)).slice(0, 40)})`);
  }
  return { type: type as WatchEvent['type'], object };
}
