/**
 * A Standard Webhooks message (`type`, `timestamp`, `data`) whose data is fluxgate's generic payload. A provider
 * reading it names the paths in its options: `{ repository: data.repository, ref: data.ref, commit: data.commit }`.
 */
import type { Sample } from '../src/provider-kit/index.ts';

const standardWebhooks: Sample = {
  headers: () => ({ 'Content-Type': 'application/json' }),
  body: (input) => ({
    type: input.event ?? 'push',
    timestamp: input.now.toISOString(),
    data: { repository: input.repository.host ? `https://${input.repository.host}/${input.repository.slug}` : input.repository.slug, ref: input.ref.ref, commit: input.commit },
  }),
};
export default standardWebhooks;
