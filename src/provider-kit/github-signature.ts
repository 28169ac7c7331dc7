/**
 * GitHub's `X-Hub-Signature-256` checked by GitHub's own implementation, `verify` of `@octokit/webhooks-methods`.
 *
 * That `verify` takes the payload as a string and HMACs its UTF-8 encoding. For a body that is valid UTF-8 the
 * decoded text encodes back to exactly the bytes received (the decoder is strict and keeps a byte order mark),
 * so the signature still covers what was sent. A body that is not valid UTF-8 has no such text — decoding it
 * with replacement would let two different bodies share one signature — so it is checked over its exact bytes
 * by the kit's HMAC, as every other provider is. `verify` throws on an empty payload: answered as any signature
 * that does not match.
 */
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import type { VerifyResult, WebhookRequest } from './contract.ts';
import { type HmacSignature, signatureIn, verifyHmacHeader } from './hmac.ts';
import { fail, OK } from './verdict.ts';

/** Not streaming: each decode stands alone, so one decoder serves every call. */
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const SHA256: HmacSignature = { header: 'X-Hub-Signature-256', algorithms: ['sha256'], prefixed: true };

/**
 * The text of `body` when it is valid UTF-8 (a byte order mark kept), else undefined.
 * @example utf8(new Uint8Array([0x7b, 0x7d])) // '{}'; utf8(new Uint8Array([0xff])) // undefined
 */
export function utf8(body: Uint8Array): string | undefined {
  try {
    return strict.decode(body);
  } catch {
    return undefined;
  }
}

/**
 * A decoder that decodes each body once, for a codec whose `verify` and `parse` both read the text (one map per
 * codec, its entries as long-lived as the bodies).
 * @example const textOf = utf8Once(); textOf(request.body) === textOf(request.body) // decoded once
 */
export function utf8Once(): (body: Uint8Array) => string | undefined {
  const texts = new WeakMap<Uint8Array, string | undefined>();
  return (body) => {
    if (texts.has(body)) return texts.get(body);
    const text = utf8(body);
    texts.set(body, text);
    return text;
  };
}

/**
 * Verifies `X-Hub-Signature-256` (missing, malformed and unknown-algorithm headers are refused with the kit's
 * reasons); `text` is the body decoded by `utf8` (pass it when the codec already has it).
 * @example await verifyGithubSha256(request, secret) // { ok: true }
 */
export async function verifyGithubSha256(request: WebhookRequest, secret: string | undefined, text: string | undefined = utf8(request.body)): Promise<VerifyResult> {
  const given = signatureIn(request, SHA256, secret);
  if ('ok' in given) return given;
  if (text === undefined) return verifyHmacHeader(request, SHA256, secret);
  try {
    return (await octokitVerify(secret!, text, `sha256=${given.digest}`)) ? OK : fail('signature does not match');
  } catch {
    return fail('signature does not match');
  }
}
