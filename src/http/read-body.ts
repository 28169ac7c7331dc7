/**
 * Reads a request body without ever holding more than `limit` bytes: a declared Content-Length over the limit
 * is refused before reading, and a chunked body is cut off as soon as it passes the limit.
 */
export type BodyResult = { ok: true; body: Uint8Array } | { ok: false; tooLarge: true };

export async function readLimitedBody(request: Request, limit: number): Promise<BodyResult> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (Number(declared) > limit) return { ok: false, tooLarge: true };
    // With a Content-Length within the limit the framing is fixed, and the runtime's own read is fastest.
    return { ok: true, body: new Uint8Array(await request.arrayBuffer()) };
  }
  if (!request.body) return { ok: true, body: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return { ok: false, tooLarge: true };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, body: chunks[0]! };
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, body };
}
