/**
 * The recent deliveries shown on the status page and at /api/deliveries: what came in, what was decided,
 * and what each accepted delivery caused on which object — its state follows its patches, so a delivery whose
 * patches failed does not stay a green "accepted". Bounded: the oldest record falls off.
 */

export type DeliveryOutcome = 'accepted' | 'ignored' | 'rejected';
/**
 * Per object: `pending` until its patch ends; `selected` is a label selector's row (its objects have their own
 * rows); the rest are final.
 */
export type ObjectState = 'pending' | 'selected' | 'patched' | 'dry-run' | 'not-found' | 'forbidden' | 'failed';
/** An accepted delivery's state, from its objects': waiting, all patched, some failed, all failed. */
export type DeliveryState = 'pending' | 'patched' | 'dry-run' | 'partly-failed' | 'failed';

export interface ObjectEffect {
  object: string;
  /** The cluster (from `clusters:`) the object is in; absent with the single `kubernetes:` connection. */
  cluster?: string;
  state: ObjectState;
  detail?: string;
  attempts?: number;
  /** From the delivery's acceptance to the API server's answer to the patch that served it. */
  latencyMs?: number;
  /** Which rule found it, for a discovered object: `discovered: GitRepository ns/app, url …, ref branch main`. */
  rule?: string;
}

export interface DeliveryRecord {
  /** The ticket of an accepted delivery (its reconcile reports name it); absent for ignored and rejected ones. */
  ticket?: number;
  deliveryId?: string;
  provider: string;
  type: string;
  event?: string;
  receivedAt: string;
  status: number;
  outcome: DeliveryOutcome;
  /** Accepted deliveries only. */
  state?: DeliveryState;
  reason?: string;
  repository?: string;
  ref?: string;
  commit?: string;
  targets: string[];
  objects: ObjectEffect[];
  /** With discovery: objects of the pushed repository or image that were not reconciled, and why (bounded). */
  nearMisses?: string[];
}

export interface DeliveryFilter {
  provider?: string;
  outcome?: string;
  state?: string;
  /** A substring of the repository (or image) the delivery named. */
  repository?: string;
  /** Received at or after this time (ms since the epoch). */
  since?: number;
}

export interface DeliveryLog {
  add(record: Omit<DeliveryRecord, 'objects' | 'state'>): void;
  /** Records what the delivery with this ticket caused on an object (in a cluster); a later state replaces an earlier one. */
  effect(ticket: number, effect: ObjectEffect): void;
  /** Newest first, filtered. */
  recent(filter?: DeliveryFilter): DeliveryRecord[];
  /** A delivery by its provider's delivery id, or `fluxgate-<ticket>` for one without. */
  find(id: string): DeliveryRecord | undefined;
}

const SUCCESS = new Set<ObjectState>(['patched', 'dry-run']);

/** The delivery's state from how many of its objects are in each state (label selector rows do not count: their objects do). */
export function stateFromCounts(counts: ReadonlyMap<ObjectState, number>): DeliveryState {
  const of = (state: ObjectState) => counts.get(state) ?? 0;
  const total = [...counts].reduce((sum, [state, count]) => (state === 'selected' ? sum : sum + count), 0);
  if (total === 0 || of('pending') > 0) return 'pending';
  const succeeded = [...SUCCESS].reduce((sum, state) => sum + of(state), 0);
  if (succeeded === 0) return 'failed';
  if (succeeded < total) return 'partly-failed';
  return of('dry-run') === total ? 'dry-run' : 'patched';
}

/** The id a record is found by in `/api/deliveries/<id>` and the drill-down page. */
export function deliveryKey(record: Pick<DeliveryRecord, 'deliveryId' | 'ticket'>): string | undefined {
  return record.deliveryId ?? (record.ticket !== undefined ? `fluxgate-${record.ticket}` : undefined);
}

function matches(record: DeliveryRecord, filter: DeliveryFilter): boolean {
  if (filter.provider !== undefined && record.provider !== filter.provider) return false;
  if (filter.outcome !== undefined && record.outcome !== filter.outcome) return false;
  if (filter.state !== undefined && record.state !== filter.state) return false;
  if (filter.repository !== undefined && !(record.repository ?? '').toLowerCase().includes(filter.repository.toLowerCase())) return false;
  if (filter.since !== undefined && Date.parse(record.receivedAt) < filter.since) return false;
  return true;
}

/**
 * @example
 * const log = createDeliveryLog(100);
 * log.add({ ticket: 7, provider: 'github', type: 'github', receivedAt, status: 202, outcome: 'accepted', targets: ['app'] });
 * log.effect(7, { object: 'GitRepository flux-system/app', state: 'patched', attempts: 1, latencyMs: 42 });
 * log.find('fluxgate-7')?.state; // 'patched'
 */
export function createDeliveryLog(capacity = 100): DeliveryLog {
  // Oldest first; an array shift is fine at this size (the status page shows them all anyway).
  const records: DeliveryRecord[] = [];
  const byTicket = new Map<number, DeliveryRecord>();
  // Each accepted record's effects by cluster and object: a delivery of thousands of objects updates each in O(1).
  const effectsOf = new WeakMap<DeliveryRecord, { byObject: Map<string, ObjectEffect>; counts: Map<ObjectState, number> }>();
  return {
    add(record) {
      const entry: DeliveryRecord = { ...record, objects: [], ...(record.outcome === 'accepted' ? { state: 'pending' as const } : {}) };
      records.push(entry);
      if (entry.ticket !== undefined) byTicket.set(entry.ticket, entry);
      if (records.length > capacity) {
        const dropped = records.shift()!;
        if (dropped.ticket !== undefined) byTicket.delete(dropped.ticket);
      }
    },
    effect(ticket, effect) {
      const record = byTicket.get(ticket);
      if (!record) return;
      let effects = effectsOf.get(record);
      if (!effects) effectsOf.set(record, (effects = { byObject: new Map(), counts: new Map() }));
      const key = `${effect.cluster ?? ''}\u0000${effect.object}`;
      const existing = effects.byObject.get(key);
      const count = (state: ObjectState, by: number) => effects.counts.set(state, (effects.counts.get(state) ?? 0) + by);
      if (existing) {
        count(existing.state, -1);
        // A later state replaces the earlier one; its detail goes with it (a "coalesced" note does not outlive the
        // patch it waited for), what found the object (its rule) stays.
        Object.assign(existing, { detail: undefined, attempts: undefined, latencyMs: undefined }, effect);
      } else {
        const added = { ...effect };
        effects.byObject.set(key, added);
        record.objects.push(added);
      }
      count(effect.state, 1);
      record.state = stateFromCounts(effects.counts);
    },
    recent(filter = {}) {
      const found: DeliveryRecord[] = [];
      for (let index = records.length - 1; index >= 0; index -= 1) if (matches(records[index]!, filter)) found.push(records[index]!);
      return found;
    },
    find(id) {
      for (let index = records.length - 1; index >= 0; index -= 1) if (deliveryKey(records[index]!) === id) return records[index];
      return undefined;
    },
  };
}
