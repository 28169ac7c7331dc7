/**
 * `generic`: fluxgate's own payload (see src/provider-kit/generic-payload.ts) with no signature: a provider of this
 * type needs `allowUnsigned: true`, and the unguessable route is then its only secret. Prefer `generic-hmac`
 * wherever the sender can sign. `X-Event` names the event (default `push`); `X-Delivery`, else `X-Request-Id`, is
 * the delivery id.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const generic: ProviderFactory = (kit) => ({
  id: 'generic',
  defaultEvents: ['push'],
  secretFields: [],
  describe: (headers) => ({ event: headers.get('x-event') || 'push', deliveryId: headers.get('x-delivery') || headers.get('x-request-id') || undefined }),
  verify: () => ({ ok: true }),
  parse: (request, info) => ({ events: [kit.genericEvent(kit.json(request.body), info.event ?? 'push')] }),
  sign: () => ({}),
});
export default generic;
