/**
 * The message an accepted delivery is kept as on the stream `<name>-accepted`, and the work items it becomes.
 * A delivery's items are what the journal's sqlite form would write, less what only the stream knows before the
 * message is stored (its sequence, which is the ticket). A delivery too large for one message (thousands of
 * objects) is several, each under MAX_MESSAGE_BYTES: the first one's sequence is the ticket of all of them.
 */
import type { TicketCause } from '../core/index.ts';
import type { ObjectFilter, ObjectSelector } from '../core/index.ts';
import type { Ticket } from '../core/index.ts';
import type { RelayPublication } from '../pipeline/index.ts';
import { itemId } from './work.ts';
import { replicaPartition, sharedPartition, workKey } from './nats-partitions.ts';
import type { StoredItem } from './nats-work.ts';

export interface AcceptedItem {
  cluster?: string;
  /** Without its filter: a function never leaves the process. */
  selector: ObjectSelector;
  /** The selector had a filter: the accepting replica keeps it under this token and owns the item while it lives. */
  filterRef?: string;
  /** A filtered item owed again without its filter (a retry by hand): every object its selector names. */
  filtered?: true;
}

export interface AcceptedMessage {
  /** The delivery's ticket, on each message after its first. */
  ticket?: number;
  acceptedAt: number;
  cause?: TicketCause;
  /** The provider's delivery id (the record of the delivery is found by it). */
  deliveryId?: string;
  /** The accepting replica. */
  replica: string;
  /** Failures owed again by hand (`fluxgate retry`): no delivery of its own in the log. */
  retry?: true;
  /** The annotation value minted at acceptance (a selector's fixed value wins). */
  value?: string;
  /** On a relay's edge (first message only): the events kept for subscribers, published to the relay stream when folded. */
  relay?: RelayPublication[];
  items: AcceptedItem[];
}

/** A filter's item is a delivery's own (itemId keys it by the ticket); which filter does not matter for the id. */
const ANY_FILTER: ObjectFilter = { accepts: async (objects) => objects.map(() => true) };

export function storedSelector(selector: ObjectSelector): ObjectSelector {
  if (selector.filter === undefined) return selector;
  const { filter: _filter, ...rest } = selector;
  return rest;
}

/**
 * The message bodies of a delivery: one, or several when its items do not fit one under `maxBytes`.
 *
 * @example encodeAccepted({ acceptedAt, cause, replica, value, items }, 512 * 1024) // ['{"acceptedAt":…}']
 */
export function encodeAccepted(message: Omit<AcceptedMessage, 'ticket' | 'items'>, items: readonly AcceptedItem[], maxBytes: number): { head: string; rest: (ticket: number) => string[] } {
  const base = JSON.stringify(message);
  const chunks: string[][] = [[]];
  let size = base.length;
  for (const item of items) {
    const text = JSON.stringify(item);
    if (text.length + base.length + 64 > maxBytes) throw new Error(`an object selector of ${text.length} bytes does not fit a NATS message`);
    if (size + text.length + 1 > maxBytes && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      size = base.length;
    }
    chunks.at(-1)!.push(text);
    size += text.length + 1;
  }
  const body = (parts: string[], ticket?: number) => `${base.slice(0, -1)}${ticket !== undefined ? `,"ticket":${ticket}` : ''},"items":[${parts.join(',')}]}`;
  return { head: body(chunks[0]!), rest: (ticket) => chunks.slice(1).map((parts) => body(parts, ticket)) };
}

export function decodeAccepted(text: string): AcceptedMessage {
  const message = JSON.parse(text) as AcceptedMessage;
  if (typeof message?.acceptedAt !== 'number' || typeof message.replica !== 'string' || !Array.isArray(message.items)) throw new Error('not an accepted delivery');
  return message;
}

/** The work items (with their keys in the work bucket) a stored message owes; `seq` is its stream sequence. */
export function itemsOf(message: AcceptedMessage, seq: number): { key: string; item: StoredItem }[] {
  const ticket: Ticket = { seq: message.ticket ?? seq, acceptedAt: message.acceptedAt, ...(message.cause ? { cause: message.cause } : {}) };
  return message.items.map((accepted) => {
    const { selector, cluster, filterRef } = accepted;
    const id = itemId(cluster, filterRef !== undefined ? { ...selector, filter: ANY_FILTER } : selector, ticket.seq);
    const partition = filterRef !== undefined ? replicaPartition(message.replica) : sharedPartition(id);
    const value = selector.annotation.fixedValue ?? message.value;
    const item: StoredItem = {
      id,
      ...(cluster !== undefined ? { cluster } : {}),
      selector,
      revision: 0,
      tickets: [ticket],
      untracked: 0,
      since: message.acceptedAt,
      ...(value !== undefined ? { value } : {}),
      ...(filterRef !== undefined || accepted.filtered ? { filtered: true } : {}),
      ...(filterRef !== undefined ? { filterRef } : {}),
    };
    return { key: workKey(partition, id), item };
  });
}
