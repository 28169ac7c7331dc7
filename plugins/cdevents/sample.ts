/** A CDEvents `change.merged` in CloudEvents binary mode, slim. */
import type { Sample } from '../../src/provider-kit/index.ts';

const TYPE = 'dev.cdevents.change.merged.0.2.0';

export const sample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'ce-specversion': '1.0', 'ce-id': input.deliveryId, 'ce-source': '/fluxgate/send', 'ce-type': input.event ?? TYPE, 'ce-time': input.now.toISOString() }),
  body: (input) => ({
    context: { version: '0.4.1', id: input.deliveryId, source: '/fluxgate/send', type: input.event ?? TYPE, timestamp: input.now.toISOString() },
    subject: { id: input.commit, source: '/fluxgate/send', type: 'change', content: { repository: { id: input.repository.slug, source: `https://${input.repository.host ?? 'github.com'}` } } },
  }),
};
