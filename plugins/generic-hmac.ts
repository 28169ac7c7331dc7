/**
 * `generic-hmac`: any sender that signs the raw body with a shared secret.
 *
 * Signature header: `X-Signature: <algorithm>=<hex>` with algorithm `sha1`, `sha256` or `sha512` (HMAC of the
 * exact body bytes, hex in either case). `sign` uses sha256. Payload shape and headers: see `generic-payload.ts`.
 */
import type { PluginHost, ProviderPlugin, VerifyResult } from '../src/plugins/plugin-api.ts';
import { createGenericPayload } from './generic-payload.ts';

const OK: VerifyResult = { ok: true };
/** Algorithm names we are willing to echo back in a reason (the header is attacker-controlled). */
const PRINTABLE_ALGORITHM = /^[A-Za-z0-9_-]{1,16}$/;

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

function algorithmOf(name: string): 'sha1' | 'sha256' | 'sha512' | undefined {
  switch (name) {
    case 'sha256':
    case 'SHA256':
      return 'sha256';
    case 'sha1':
    case 'SHA1':
      return 'sha1';
    case 'sha512':
    case 'SHA512':
      return 'sha512';
    default:
      return undefined;
  }
}

export default function createGenericHmacPlugin(host: PluginHost): ProviderPlugin {
  const payload = createGenericPayload(host);
  return {
    id: 'generic-hmac',
    defaultEvents: ['push'],
    secretFields: ['secret'],

    verify(request, secrets) {
      const secret = secrets.secret;
      if (!secret) return fail('no secret configured for this provider');
      const header = request.headers.get('x-signature');
      if (!header) return fail('missing X-Signature header');
      const separator = header.indexOf('=');
      if (separator <= 0) return fail('malformed X-Signature header (expected sha256=<hex>)');
      const name = header.slice(0, separator);
      const algorithm = algorithmOf(name);
      if (!algorithm) {
        return fail(PRINTABLE_ALGORITHM.test(name) ? `unsupported signature algorithm "${name}"` : 'unsupported signature algorithm');
      }
      const expected = host.hmac(algorithm, secret, request.body, 'hex');
      return host.safeEqual(header.slice(separator + 1).toLowerCase(), expected) ? OK : fail('signature does not match');
    },

    describe: payload.describe,
    parse: payload.parse,
    sample: payload.sample,

    sign(body, secrets): Record<string, string> {
      if (!secrets.secret) return {};
      return { 'X-Signature': `sha256=${host.hmac('sha256', secrets.secret, body, 'hex')}` };
    },
  };
}
