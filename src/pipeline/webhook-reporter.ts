/** What the webhook path tells the observers (metrics, logs, delivery log); implemented in observe/. */
import type { DeliveryInfo, Event } from '../provider-kit/index.ts';
import type { Ticket } from '../core/index.ts';

/** The provider as reporters see it: never its secrets. */
export interface ProviderIdentity {
  name: string;
  type: string;
  events: ReadonlySet<string>;
}

/** What discovery found for an accepted delivery: each object with the rule that found it, and the near misses. */
export interface DiscoveredReport {
  objects: readonly { cluster?: string; object: string; rule: string }[];
  nearMisses: readonly string[];
}

export interface WebhookReporter {
  /** 401, 400, 413, 503: refused before anything was queued. */
  rejected(provider: ProviderIdentity, status: number, reason: string, info?: DeliveryInfo): void;
  /** 200 with a reason: ping, filtered event, duplicate, nothing matched. */
  ignored(provider: ProviderIdentity, info: DeliveryInfo, reason: string, event?: Event): void;
  /**
   * 202: the ticket reconcile will report against; `discovered` when discovery found objects or near misses;
   * `relayedTo`: the relay subscribers that keep its events.
   */
  accepted(provider: ProviderIdentity, info: DeliveryInfo, event: Event, targets: string[], ticket: Ticket, discovered?: DiscoveredReport, relayedTo?: readonly string[]): void;
  /** Authenticated by the provider's `previousSecret`, not its `secret` (then answered as any other). */
  verifiedWithPrevious?(provider: ProviderIdentity, info: DeliveryInfo): void;
}
