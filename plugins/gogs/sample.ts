/** A Gogs push as Gogs sends it, slim. */
import { giteaPush, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'X-Gogs-Event': input.event ?? 'push', 'X-Gogs-Delivery': input.deliveryId }),
  body: (input) => giteaPush(input, 'gogs.example.com'),
};
