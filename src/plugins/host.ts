/** The runtime services every provider plugin receives (see PluginHost). */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { PayloadError, type PluginHost } from './plugin-api.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Compares in constant time. Only the length can leak, and the length of an expected signature or token
 * is not secret: for hex digests it is fixed by the algorithm.
 */
function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
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
