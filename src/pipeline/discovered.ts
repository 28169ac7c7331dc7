/**
 * What the pipeline asks of discovery (a port, implemented by src/discovery/): the discovered objects a delivery's
 * events concern, each with the rule that found it, and the near misses for the record.
 */
import type { ObjectSelector } from '../core/index.ts';
import type { Event } from '../provider-kit/index.ts';

export interface DiscoveredRequest {
  cluster?: string;
  selector: ObjectSelector;
  /** `discovered: GitRepository flux-system/app, url …, ref branch main` */
  rule: string;
}

export interface DiscoveryResult {
  requests: DiscoveredRequest[];
  /** Near misses, for the record: at most a few, then how many more. */
  misses: string[];
  /** Why nothing was found (meaningful when `requests` is empty). */
  reason: string;
  /** The event shown in records: the first that found something, else the first. */
  event: Event;
  /** Watches that have not listed their kind yet (`GitRepository`, `Application in cluster eu`): what they hold is unknown. */
  unlisted?: readonly string[];
}
