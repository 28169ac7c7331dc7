/**
 * `generic-hmac`: fluxgate's own payload (see src/provider-kit/generic-payload.ts) signed with a shared secret:
 * `X-Signature: <algorithm>=<hex>`, HMAC of the exact body with sha256, sha1 or sha512 (`sign` uses sha256).
 * `X-Event` names the event (default `push`); `X-Delivery`, else `X-Request-Id`, is the delivery id.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const SIGNATURE = { header: 'X-Signature', algorithms: ['sha256', 'sha1', 'sha512'], prefixed: true } as const;

const genericHmac: ProviderFactory = (kit) => ({
  id: 'generic-hmac',
  defaultEvents: ['push'],
  secretFields: ['secret'],
  describe: (headers) => ({ event: headers.get('x-event') || 'push', deliveryId: headers.get('x-delivery') || headers.get('x-request-id') || undefined }),
  verify: (request, { secret }) => kit.hmacHeader.verify(request, SIGNATURE, secret),
  parse: (request, info) => ({ events: [kit.genericEvent(kit.json(request.body), info.event ?? 'push')] }),
  sign: (body, { secret }) => ({ [SIGNATURE.header]: kit.hmacHeader.sign(SIGNATURE, secret!, body) }),
});
export default genericHmac;
