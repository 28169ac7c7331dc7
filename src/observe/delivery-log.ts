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
}

export interface DeliveryLog {
  add(record: Omit<DeliveryRecord, 'objects'>): void;
  /** Records what the delivery with this ticket caused on an object; a later state replaces an earlier one. */
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
      const existing = record.objects.find((item) => item.object === effect.object);
      if (existing) Object.assign(existing, effect);
      else record.objects.push({ ...effect });
    },
    recent() {
      return [...records].reverse();
    },
  };
}
