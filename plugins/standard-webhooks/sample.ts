/**
 * A Standard Webhooks message (`type`, `timestamp`, `data`) whose data is fluxgate's generic payload. A provider
 * reading it names the paths in its options: `{ repository: data.repository, ref: data.ref, commit: data.commit }`.
 */
import { genericPayload, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: () => ({ 'Content-Type': 'application/json' }),
  body: (input) => ({
    type: input.event ?? 'push',
    timestamp: input.now.toISOString(),
    data: genericPayload(input),
  }),
};
