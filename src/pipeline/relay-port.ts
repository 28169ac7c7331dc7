/**
 * What the pipeline asks of a relay's edge (a port, implemented by src/relay/): which subscribers keep each event
 * of a delivery. The journal keeps those events with the delivery, in the same commit, before the 202.
 */
import type { Event } from '../provider-kit/index.ts';

/** A normalized event as an edge keeps it for its agents: never the raw body, never a secret. */
export interface RelayEvent {
  /** The edge's provider that received it, and its type. */
  provider: string;
  type: string;
  deliveryId?: string;
  /** When the edge received the delivery (ms since the epoch). */
  receivedAt: number;
  event: Event;
}

/** One event, for the subscribers whose filter allows it. */
export interface RelayPublication {
  event: RelayEvent;
  /** Subscriber names. */
  to: readonly string[];
}

/** The publications of a delivery's events: none when no subscriber wants any of them. */
export type RelayFilter = (provider: { name: string; type: string }, deliveryId: string | undefined, events: readonly Event[]) => RelayPublication[];

/** The subscribers a delivery's publications reach, each once, in order. */
export function subscribersOf(publications: readonly RelayPublication[]): string[] {
  return [...new Set(publications.flatMap((publication) => publication.to))];
}
