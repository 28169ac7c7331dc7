/**
 * Standard Webhooks (standardwebhooks.com), used by GitLab's signing token and the `standard-webhooks` type:
 * `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "{id}.{timestamp}.{body}">`, possibly several space-separated entries during a key rotation (one match is
 * enough). The key is the base64 after `whsec_`.
 */
import { ConfigProblem, type VerifyResult, type WebhookRequest } from './contract.ts';
import { safeEqual } from '../core/index.ts';
import { hmac } from './hmac.ts';
import { fail } from './verdict.ts';

/** How far a timestamp may be from the clock, either way, before the delivery is taken for a replay. */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 5 * 60;
const UNIX_SECONDS = /^\d{1,12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const encoder = new TextEncoder();

/**
 * The HMAC key of a `whsec_…` secret configured as `field`. Throws a ConfigProblem for that field, without
 * echoing the secret, when it is not `whsec_` followed by the base64 of 24 to 64 bytes (the specification's range).
 *
 * @example standardWebhooksKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') // Uint8Array(24)
 */
export function standardWebhooksKey(secret: string, field = 'secret'): Uint8Array {
  if (!secret.startsWith('whsec_')) throw new ConfigProblem(field, 'a signing secret starts with whsec_ (copy it whole, as the sender shows it)');
  const encoded = secret.slice(6);
  if (!BASE64.test(encoded)) throw new ConfigProblem(field, 'a signing secret is whsec_ followed by base64, and the rest of this one is not base64');
  const key = Uint8Array.from(Buffer.from(encoded, 'base64'));
  if (key.length < 24 || key.length > 64) throw new ConfigProblem(field, `a signing secret is whsec_ followed by the base64 of 24 to 64 bytes, and this one has ${key.length}`);
  return key;
}

function signature(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): string {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const data = new Uint8Array(prefix.length + body.length);
  data.set(prefix, 0);
  data.set(body, prefix.length);
  return hmac('sha256', key, data, 'base64');
}

/**
 * Verifies the three headers; on success returns the `webhook-id` the signature covers, which the pipeline then
 * deduplicates on (a replay cannot change it).
 */
export function verifyStandardWebhook(request: WebhookRequest, key: Uint8Array, now: Date, toleranceSeconds = STANDARD_WEBHOOKS_TOLERANCE_SECONDS): VerifyResult {
  const headers = request.headers;
  const signatures = headers.get('webhook-signature');
  if (!signatures) return fail('missing webhook-signature header');
  const id = headers.get('webhook-id');
  if (!id) return fail('missing webhook-id header');
  const timestamp = headers.get('webhook-timestamp');
  if (!timestamp) return fail('missing webhook-timestamp header');
  if (!UNIX_SECONDS.test(timestamp)) return fail('webhook-timestamp is not a unix time in seconds');
  const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (age > toleranceSeconds) return fail(`webhook-timestamp is more than ${toleranceSeconds / 60} minutes old`);
  if (age < -toleranceSeconds) return fail(`webhook-timestamp is more than ${toleranceSeconds / 60} minutes in the future`);
  const expected = signature(key, id, timestamp, request.body);
  let sawVersion1 = false;
  for (const entry of signatures.split(' ')) {
    if (!entry.startsWith('v1,')) continue; // empty entries and other versions (v1a = asymmetric) are skipped
    sawVersion1 = true;
    if (safeEqual(entry.slice(3), expected)) return { ok: true, deliveryId: id };
  }
  return fail(sawVersion1 ? 'signature does not match' : 'webhook-signature has no v1 signature');
}

/** The three headers that sign `body` as delivery `id` at `now`. */
export function signStandardWebhook(body: Uint8Array, key: Uint8Array, id: string, now: Date): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature(key, id, timestamp, body)}` };
}
