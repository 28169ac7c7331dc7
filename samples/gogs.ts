/** A Gogs push as Gogs sends it, slim. */
import type { Sample } from '../src/provider-kit/index.ts';
import { giteaPush } from './gitea-family.ts';

const gogs: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'X-Gogs-Event': input.event ?? 'push', 'X-Gogs-Delivery': input.deliveryId }),
  body: (input) => giteaPush(input, 'gogs.example.com'),
};
export default gogs;
