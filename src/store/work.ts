/**
 * How the journal names and folds work items: an item per object (or label query) and cluster, so deliveries
 * naming the same object fold into one, and a label query's objects become items of their own.
 */
import type { ObjectSelector } from '../core/index.ts';
import type { WorkItem } from '../reconcile/index.ts';

/** Tickets kept per item for reports; a flood folds into a count. */
export const MAX_ITEM_TICKETS = 16;

/**
 * The id of the item for `selector` in `cluster`: a named object's own id (so a target and discovery naming it share
 * one item), a label query's, or, for a selector whose filter is bound to one delivery, that delivery's alone (two
 * deliveries' filters must not fold into one).
 */
export function itemId(cluster: string | undefined, selector: ObjectSelector, seq: number): string {
  if (selector.filter !== undefined) return `${cluster ?? ''}\u0000filter|${selector.key}|${seq}`;
  if (selector.name === undefined) return `${cluster ?? ''}\u0000query|${selector.key}`;
  return objectId(cluster, selector, selector.name);
}

function objectId(cluster: string | undefined, selector: ObjectSelector, name: string): string {
  return `${cluster ?? ''}\u0000${selector.apiVersion}|${selector.kind}|${selector.namespace}|${name}|${selector.annotation.key}`;
}

/** The item for `name`, one of the objects a label query's (or a filter's) item resolved to. */
export function namedItem(query: WorkItem, name: string, revision: number): WorkItem {
  const { matchLabels: _labels, filter: _filter, ...rest } = query.selector;
  const selector: ObjectSelector = { ...rest, name, key: `${query.selector.key}|${name}`, label: `${query.selector.kind} ${query.selector.namespace}/${name}` };
  const { filtered: _filtered, ...item } = query;
  return { ...item, id: objectId(query.cluster, selector, name), selector, revision };
}

/**
 * `next` folded into `existing` (the same object): the newer revision, value and tickets, the older `since`.
 *
 * @example fold(itemAt(1), itemAt(2)).revision // 2
 */
export function fold(existing: WorkItem | undefined, next: WorkItem): WorkItem {
  if (existing === undefined) return next;
  const tickets = [...existing.tickets, ...next.tickets];
  const dropped = Math.max(0, tickets.length - MAX_ITEM_TICKETS);
  return {
    ...next,
    revision: Math.max(existing.revision, next.revision),
    tickets: dropped > 0 ? tickets.slice(dropped) : tickets,
    untracked: existing.untracked + next.untracked + dropped,
    since: Math.min(existing.since, next.since),
    ...(existing.filtered || next.filtered ? { filtered: true } : {}),
  };
}
