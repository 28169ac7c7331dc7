/**
 * The store: the journal of accepted work (memory, sqlite, NATS JetStream), delivery ids, the delivery log and the
 * failures kept for a retry — what must outlive the process.
 */
export { DELIVERY_OUTCOMES, DELIVERY_STATES, type DeliveryFilter, deliveryKey, type DeliveryLog, type DeliveryRecord, FOLLOW_STAGES, type FollowedObject, type FollowStage, MAX_FOLLOWED_ROWS, type ObjectEffect, type ObjectState } from './delivery-log.ts';
export { type FailureRecord, type JournalReporter } from './journal.ts';
export { openStore } from './open-store.ts';
export { type ReplicaReporter, type Store, type StoreOptions } from './store.ts';
export { type RelayLog, type RelayRecord } from './relay-log.ts';
