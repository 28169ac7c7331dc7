/** HMAC signatures in a header: `<algorithm>=<hex>` (GitHub, Bitbucket) or bare hex (Gitea, Gogs, Nexus). */
import { createHmac } from 'node:crypto';
import { PayloadError, type VerifyResult, type WebhookRequest } from './contract.ts';
import { safeEqual } from '../core/index.ts';
import { fail, OK, printable } from './verdict.ts';

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** Where and how a host puts its body signature. */
export interface HmacSignature {
  /** Header name, e.g. `X-Hub-Signature-256`. */
  header: string;
  /** Algorithms accepted; the first one signs. */
  algorithms: readonly HmacAlgorithm[];
  /** `<algorithm>=<hex>` when true, bare lowercase hex when false. */
  prefixed: boolean;
}

/**
 * HMAC of `data` with `key`, as hex or base64.
 * @example hmac('sha256', 'secret', body, 'hex') // 'b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad'
 */
export function hmac(algorithm: HmacAlgorithm, key: string | Uint8Array, data: Uint8Array | string, encoding: 'hex' | 'base64'): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

/**
 * The algorithm and digest a signature header gives, or why it cannot be checked (no secret, no header, not
 * `<algorithm>=<hex>`, an algorithm not listed). Never names the expected value.
 */
export function signatureIn(request: WebhookRequest, signature: HmacSignature, secret: string | undefined): { algorithm: HmacAlgorithm; digest: string } | VerifyResult {
  if (!secret) return fail('no secret configured for this provider');
  const value = request.headers.get(signature.header);
  if (!value) return fail(`missing ${signature.header} header`);
  if (!signature.prefixed) return { algorithm: signature.algorithms[0]!, digest: value.trim().toLowerCase() };
  const separator = value.indexOf('=');
  if (separator <= 0) return fail(`malformed ${signature.header} header (expected ${signature.algorithms[0]}=<hex>)`);
  const name = value.slice(0, separator).toLowerCase();
  const known = signature.algorithms.find((candidate) => candidate === name);
  if (!known) {
    const shown = printable(value.slice(0, separator), /^[A-Za-z0-9_-]{1,16}$/);
    return fail(shown ? `unsupported signature algorithm "${shown}" in ${signature.header}` : `unsupported signature algorithm in ${signature.header}`);
  }
  return { algorithm: known, digest: value.slice(separator + 1).trim().toLowerCase() };
}

/**
 * Checks the signature header of `request` against the HMAC of `data` (the body unless given: Gitea and Gogs
 * sign the JSON inside a form body). Never names the expected value.
 *
 * @example verifyHmacHeader(request, { header: 'X-Hub-Signature-256', algorithms: ['sha256'], prefixed: true }, secret)
 */
export function verifyHmacHeader(
  request: WebhookRequest,
  signature: HmacSignature,
  secret: string | undefined,
  data: Uint8Array | ((request: WebhookRequest) => Uint8Array) = request.body,
): VerifyResult {
  const given = signatureIn(request, signature, secret);
  if ('ok' in given) return given;
  let signed: Uint8Array;
  try {
    signed = typeof data === 'function' ? data(request) : data;
  } catch (error) {
    if (error instanceof PayloadError) return fail(error.message); // e.g. a form without the signed field
    throw error;
  }
  return safeEqual(given.digest, hmac(given.algorithm, secret!, signed, 'hex')) ? OK : fail('signature does not match');
}

/** The header value that signs `data` the way `signature` describes (with its first algorithm). */
export function signHmacHeader(signature: HmacSignature, secret: string, data: Uint8Array): string {
  const algorithm = signature.algorithms[0]!;
  const digest = hmac(algorithm, secret, data, 'hex');
  return signature.prefixed ? `${algorithm}=${digest}` : digest;
}

/**
 * A shared token sent verbatim in a header (Harbor's `Authorization`, ACR's custom header, GitLab's
 * `X-Gitlab-Token`), compared in constant time.
 */
export function verifyHeaderToken(request: WebhookRequest, header: string, secret: string | undefined): VerifyResult {
  if (!secret) return fail('no secret configured for this provider');
  const given = request.headers.get(header);
  if (given === null || given === '') return fail(`missing ${header} header`);
  return safeEqual(given, secret) ? OK : fail(`${header} header does not match`);
}
