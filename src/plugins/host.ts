/** The runtime services every provider plugin receives (see PluginHost). */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { PayloadError, type PluginHost } from './plugin-api.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Compares in constant time over the longer length, so neither content nor length leaks through timing. */
function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  const length = Math.max(left.length, right.length, 1);
  const paddedLeft = Buffer.alloc(length);
  const paddedRight = Buffer.alloc(length);
  left.copy(paddedLeft);
  right.copy(paddedRight);
  return timingSafeEqual(paddedLeft, paddedRight) && left.length === right.length;
}

function json(body: Uint8Array | string): unknown {
  const text = typeof body === 'string' ? body : decoder.decode(body);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PayloadError(`payload is not valid JSON: ${(error as Error).message}`);
  }
}

export const pluginHost: PluginHost = {
  hmac: (algorithm, key, data, encoding) => createHmac(algorithm, key).update(data).digest(encoding),
  safeEqual,
  randomId: () => randomUUID(),
  PayloadError,
  text: (body) => decoder.decode(body),
  json,
};
