/** A Gitea (or Forgejo) push as Gitea sends it, slim. */
import { giteaPush, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'X-Gitea-Event': input.event ?? 'push', 'X-Gitea-Event-Type': input.event ?? 'push', 'X-Gitea-Delivery': input.deliveryId }),
  body: (input) => giteaPush(input, 'gitea.com'),
};
