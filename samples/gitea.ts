/** A Gitea (or Forgejo) push as Gitea sends it, slim. */
import type { Sample } from '../src/provider-kit/index.ts';
import { giteaPush } from './gitea-family.ts';

const gitea: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'X-Gitea-Event': input.event ?? 'push', 'X-Gitea-Event-Type': input.event ?? 'push', 'X-Gitea-Delivery': input.deliveryId }),
  body: (input) => giteaPush(input, 'gitea.com'),
};
export default gitea;
