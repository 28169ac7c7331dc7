/**
 * The recent deliveries shown on the status page and at /api/deliveries: what came in, what was decided,
 * and what each accepted delivery caused on which object. Bounded: the oldest record falls off.
 */

export type DeliveryOutcome = 'accepted' | 'ignored' | 'rejected';
export type ObjectState = 'pending' | 'patched' | 'dry-run' | 'not-found' | 'forbidden' | 'failed';

export interface ObjectEffect {
  object: string;
  /** The cluster (from `clusters:`) the object is in; absent with the single `kubernetes:` connection. */
  cluster?: string;
  state: ObjectState;
  detail?: string;
  attempts?: number;
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
  reason?: string;
  repository?: string;
  ref?: string;
  commit?: string;
  targets: string[];
  objects: ObjectEffect[];
  /** With discovery: objects of the pushed repository or image that were not reconciled, and why (bounded). */
  nearMisses?: string[];
}

export interface DeliveryLog {
  add(record: Omit<DeliveryRecord, 'objects'>): void;
  /** Records what the delivery with this ticket caused on an object (in a cluster); a later state replaces an earlier one. */
  effect(ticket: number, effect: ObjectEffect): void;
  recent(): DeliveryRecord[];
}

/**
 * @example
 * const log = createDeliveryLog(100);
 * log.add({ ticket: 7, provider: 'github', type: 'github', receivedAt, status: 202, outcome: 'accepted', targets: ['app'] });
 * log.effect(7, { object: 'GitRepository flux-system/app', state: 'patched' });
 */
export function createDeliveryLog(capacity = 100): DeliveryLog {
  // Oldest first; an array shift is fine at this size (the status page shows them all anyway).
  const records: DeliveryRecord[] = [];
  const byTicket = new Map<number, DeliveryRecord>();
  // Each accepted record's effects by cluster and object: a delivery of thousands of objects updates each in O(1).
  const effectsOf = new WeakMap<DeliveryRecord, Map<string, ObjectEffect>>();
  return {
    add(record) {
      const entry = { ...record, objects: [] };
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
      if (!effects) effectsOf.set(record, (effects = new Map()));
      const key = `${effect.cluster ?? ''}\u0000${effect.object}`;
      const existing = effects.get(key);
      if (existing) Object.assign(existing, effect);
      else {
        const added = { ...effect };
        effects.set(key, added);
        record.objects.push(added);
      }
    },
    recent() {
      return [...records].reverse();
    },
  };
}
