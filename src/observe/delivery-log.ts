/**
 * The recent deliveries shown on the status page and at /api/deliveries: what came in, what was decided,
 * and what each accepted delivery caused on which object. Bounded: the oldest record falls off.
 */

export type DeliveryOutcome = 'accepted' | 'ignored' | 'rejected';
export type ObjectState = 'pending' | 'patched' | 'dry-run' | 'not-found' | 'forbidden' | 'failed';

export interface ObjectEffect {
  object: string;
  state: ObjectState;
  detail?: string;
  attempts?: number;
}

export interface DeliveryRecord {
  /** Internal sequence number: unique even when a provider sends no delivery id. */
  seq: number;
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
}

export interface DeliveryLog {
  add(record: Omit<DeliveryRecord, 'seq' | 'objects'>): number;
  /** Records what a delivery caused on an object; a later state replaces an earlier one. */
  effect(seq: number, effect: ObjectEffect): void;
  recent(): DeliveryRecord[];
}

export function createDeliveryLog(capacity = 100): DeliveryLog {
  const records = new Map<number, DeliveryRecord>();
  let next = 1;
  return {
    add(record) {
      const seq = next++;
      records.set(seq, { ...record, seq, objects: [] });
      // Map iteration order is insertion order, so the first key is the oldest record.
      if (records.size > capacity) records.delete(records.keys().next().value!);
      return seq;
    },
    effect(seq, effect) {
      const record = records.get(seq);
      if (!record) return;
      const existing = record.objects.find((item) => item.object === effect.object);
      if (existing) Object.assign(existing, effect);
      else record.objects.push({ ...effect });
    },
    recent() {
      return [...records.values()].reverse();
    },
  };
}
