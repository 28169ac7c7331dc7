/** The journal on NATS JetStream (`state.store: nats`). */
import type { Store, StoreOptions } from './open-store.ts';

export async function openNatsStore(_options: StoreOptions & Record<string, unknown>): Promise<Store> {
  throw new Error('state.store: nats is not available in this build');
}
