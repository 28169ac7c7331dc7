/**
 * What a delivery asks to reconcile: a configured resource or a discovered object, compiled once — a named object
 * or a label query, with the annotation that asks its controller to reconcile, and, for a Flux Receiver, a filter
 * bound to one delivery.
 */
import type { ReconcileAnnotation } from './kinds.ts';

/** A configured resource, compiled at start-up: a named object or a label query. */
export interface ObjectSelector {
  apiVersion: string;
  kind: string;
  namespace: string;
  name?: string;
  matchLabels?: Record<string, string>;
  annotation: ReconcileAnnotation;
  /** Identity of the selector; identical selectors in different targets share it. */
  key: string;
  /** For people: `GitRepository flux-system/flux-repo` or `Kustomization flux-system/{app=my-app}`. */
  label: string;
  /** Set when only some of the selected objects are to be patched, decided from the objects themselves. */
  filter?: ObjectFilter;
  /** The clusters (names from `clusters:`) it is reconciled in; undefined: every cluster. Read by the fleet (fleet.ts). */
  clusters?: readonly string[];
}

/** True: patch it; false: leave it; `{ error }`: the filter could not decide (reported; the object is left). */
export type FilterVerdict = boolean | { error: string };

/**
 * Decides, for one webhook, which of a selector's objects are patched (a Flux Receiver's resourceFilter bound to
 * the delivery's body). It sees each object's apiVersion, kind and metadata (managedFields left out). The
 * filters of one webhook's selectors that are called in the same turn decide together, in one evaluation for
 * the delivery: label selection calls them for all of a webhook's filtered selectors at once.
 *
 * @example
 * const filter: ObjectFilter = { accepts: async (objects) => objects.map((object) => (object.metadata as { name: string }).name.startsWith('web-')) };
 */
export interface ObjectFilter {
  /** A verdict per object, in order; or `{ error }` when none could be decided (nothing of this delivery is patched). */
  accepts(objects: readonly Readonly<Record<string, unknown>>[]): Promise<FilterVerdict[] | { error: string }>;
}

