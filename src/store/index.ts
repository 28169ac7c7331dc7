/** The face of src/store/: what the layers above use of it. */
export { type DeliveryFilter, deliveryKey, type DeliveryLog, type DeliveryRecord, type ObjectEffect, type ObjectState } from './delivery-log.ts';
export { type FailureRecord, type JournalReporter } from './journal.ts';
export { openStore } from './open-store.ts';
