/**
 * The edge's subscribers as the relay uses them: each one's credential and signing key (from its token), and its
 * filter compiled once per config. A filter's `repositories` and `images` are matched as targets' are
 * (`match.repository`, `match.images`); with either, an event must match one of them.
 */
import type { RelayConfig } from '../config/index.ts';
import { compileMatch, type RelayFilter, type RelayPublication } from '../pipeline/index.ts';
import type { Event } from '../provider-kit/index.ts';
import { relayKeys, type RelayKeys } from './credentials.ts';

export interface Subscriber extends RelayKeys {
  name: string;
  /** Whether its filter allows this event of this provider (the edge's provider name). */
  allows(provider: string, event: Event): boolean;
}

/**
 * @example
 * const subscribers = compileSubscribers(config.relay, loaded.relayTokens);
 * subscribers[0].allows('github', push) // true when its filter lets the push through
 */
export function compileSubscribers(relay: RelayConfig, tokens: ReadonlyMap<string, string>): Subscriber[] {
  return relay.subscribers.map((subscriber) => {
    const providers = subscriber.providers && new Set(subscriber.providers);
    const repositories = subscriber.repositories?.map((repository) => compileMatch({ repository }));
    const images = subscriber.images && compileMatch({ images: subscriber.images });
    const filtered = repositories !== undefined || images !== undefined;
    return {
      name: subscriber.name,
      ...relayKeys(tokens.get(subscriber.name)!),
      allows(provider, event) {
        if (event.deleted || (providers && !providers.has(provider))) return false;
        if (!filtered) return true;
        if (event.image) return images?.(event).matched === true;
        return repositories?.some((matches) => matches(event).matched) === true;
      },
    };
  });
}

/**
 * The relay port of the pipeline: each event of a delivery, kept for the subscribers its filter allows, cut to
 * `maxEventBytes` first (changed paths dropped: then path filters pass, as when a host truncates them).
 *
 * @example
 * const relay = relayFilter(() => subscribers, 64 * 1024, () => Date.now());
 * relay({ name: 'github', type: 'github' }, 'd1', [push]) // [{ event: { provider: 'github', …, event: push }, to: ['prod'] }]
 */
export function relayFilter(subscribers: () => readonly Subscriber[], maxEventBytes: number, now: () => number): RelayFilter {
  return (provider, deliveryId, events) => {
    const publications: RelayPublication[] = [];
    const receivedAt = now();
    for (const event of events) {
      const to = subscribers()
        .filter((subscriber) => subscriber.allows(provider.name, event))
        .map((subscriber) => subscriber.name);
      if (to.length === 0) continue;
      const kept = bounded(event, maxEventBytes);
      publications.push({ event: { provider: provider.name, type: provider.type, ...(deliveryId !== undefined ? { deliveryId } : {}), receivedAt, event: kept }, to });
    }
    return publications;
  };
}

/** Longest string kept in an event that is still too large without its changed paths. */
const MAX_FIELD = 1024;
/** Repository spellings kept in such an event. */
const MAX_REPOSITORIES = 8;

function bounded(event: Event, maxBytes: number): Event {
  if (JSON.stringify(event).length <= maxBytes) return event;
  const { changedPaths: _paths, ...rest } = event;
  if (JSON.stringify(rest).length <= maxBytes) return rest;
  const cut = (value: string | undefined) => (value === undefined ? undefined : value.slice(0, MAX_FIELD));
  const fields = { ref: cut(rest.ref), branch: cut(rest.branch), tag: cut(rest.tag), commit: cut(rest.commit), defaultBranch: cut(rest.defaultBranch) };
  const image = rest.image && { name: rest.image.name.slice(0, MAX_FIELD), ...(rest.image.tag !== undefined ? { tag: rest.image.tag.slice(0, MAX_FIELD) } : {}), ...(rest.image.digest !== undefined ? { digest: rest.image.digest.slice(0, MAX_FIELD) } : {}) };
  return {
    event: rest.event.slice(0, MAX_FIELD),
    repositories: rest.repositories.slice(0, MAX_REPOSITORIES).map((repository) => repository.slice(0, MAX_FIELD)),
    ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
    ...(rest.deleted !== undefined ? { deleted: rest.deleted } : {}),
    ...(image ? { image } : {}),
  };
}
