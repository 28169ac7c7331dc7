/**
 * When each object is patched: one state machine per object (leading patch, window, trailing patch), bounded
 * concurrency and retries, label selection; it settles each item of work with the journal.
 */
export { createDispatcher } from './dispatcher.ts';
export { createFleet } from './fleet.ts';
export { createLabelSelection } from './label-selection.ts';
export { createReconciler, type PatchOutcome, type PatchReport, type Reconciler, type ReconcileReporter } from './reconciler.ts';
export { retryPolicy } from './retry.ts';
export { type Settlement, type WorkItem, type WorkLedger } from './work-item.ts';
