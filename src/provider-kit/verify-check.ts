/**
 * A plugin's `verify` checked with its own `sign` when a provider of its type is configured: a delivery without
 * any credential, or signed with a secret other than the configured one, must be refused. A verify that accepts
 * them (one that always returns ok, or only looks for the header) would let anyone trigger reconciles, silently.
 */
import type { ProviderCodec, VerifyResult, WebhookRequest } from './contract.ts';
import type { ProviderSecrets } from '../config/index.ts';

/** How long the check waits for a verify that returns a promise. */
export const VERIFY_CHECK_TIMEOUT_MS = 5000;

const SAMPLE = new TextEncoder().encode('{"fluxgate":"verify check","ref":"refs/heads/main"}');

/**
 * A secret of the same shape that differs: one letter or digit near the middle changed within its class, so a
 * format the type checks (a `whsec_` prefix, base64) still holds and the change is not in padding bits.
 * @example otherSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') // 'whsec_MfKQ9r8GKYqrTxjUPD8ILPZIo2LaLaSw'
 */
export function otherSecret(secret: string): string {
  const classes = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
  const positions = [...secret].flatMap((char, index) => (classes.some((chars) => chars.includes(char)) ? [index] : []));
  if (positions.length === 0) return `${secret}0`;
  const at = positions[Math.floor(positions.length / 2)]!;
  const chars = classes.find((candidates) => candidates.includes(secret[at]!))!;
  return `${secret.slice(0, at)}${chars[(chars.indexOf(secret[at]!) + 1) % chars.length]}${secret.slice(at + 1)}`;
}

/**
 * Why `codec` may not be trusted to verify with `key` (prepared from `secrets` and `options`), or undefined.
 *
 * @example
 * await verifyRefusesOthers(alwaysTrue, { secret: 's3cret-1' }, undefined, key); // 'verify accepts a delivery without a signature'
 */
export async function verifyRefusesOthers(codec: ProviderCodec<unknown>, secrets: ProviderSecrets, options: unknown, key: unknown, timeoutMs = VERIFY_CHECK_TIMEOUT_MS): Promise<string | undefined> {
  const now = new Date();
  const accepts = (request: WebhookRequest) => verdict(codec, request, key, now, timeoutMs);
  const unsigned = await accepts({ body: SAMPLE, headers: new Headers({ 'content-type': 'application/json' }) });
  if (unsigned !== false) return unsigned === true ? 'verify accepts a delivery without a signature' : unsigned;
  const others: ProviderSecrets = Object.fromEntries(Object.entries(secrets).map(([field, value]) => [field, value === undefined ? undefined : otherSecret(value)]));
  let headers: Record<string, string>;
  try {
    headers = codec.sign(SAMPLE, others, { now, deliveryId: 'fluxgate-verify-check', options });
  } catch {
    // Its sign refuses the other secret: nothing signed with it to check.
    return undefined;
  }
  const signed = await accepts({ body: SAMPLE, headers: new Headers({ 'content-type': 'application/json', ...headers }) });
  if (signed !== false) return signed === true ? 'verify accepts a delivery signed with a different secret' : signed;
  return undefined;
}

/** True when verify accepts; false when it refuses (a throw is a refusal); a sentence when it does not answer in time. */
async function verdict(codec: ProviderCodec<unknown>, request: WebhookRequest, key: unknown, now: Date, timeoutMs: number): Promise<boolean | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`verify did not answer within ${timeoutMs / 1000} s`), timeoutMs)));
  try {
    const result = await Promise.race([Promise.resolve().then(() => codec.verify(request, key, now)), late]);
    return typeof result === 'string' ? result : (result as VerifyResult).ok === true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
