/** The face of src/reconcile/: what the layers above use of it. */
export { createDispatcher } from './dispatcher.ts';
export { createFleet } from './fleet.ts';
export { createLabelSelection } from './label-selection.ts';
export { createReconciler, type PatchOutcome, type Reconciler, type ReconcileReporter } from './reconciler.ts';
export { retryPolicy } from './retry.ts';
export { type Settlement, type WorkItem, type WorkLedger } from './work-item.ts';
