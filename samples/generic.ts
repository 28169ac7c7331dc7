/** fluxgate's own payload, for the `generic` and `generic-hmac` types. */
import type { Sample } from '../src/provider-kit/index.ts';

const generic: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'User-Agent': 'fluxgate-send', 'X-Event': input.event ?? 'push', 'X-Delivery': input.deliveryId }),
  body: (input) => ({ repository: input.repository.host ? `https://${input.repository.host}/${input.repository.slug}` : input.repository.slug, ref: input.ref.ref, commit: input.commit }),
};
export default generic;
