/**
 * The recent deliveries shown on the status page and at /api/deliveries: what came in, what was decided,
 * and what each accepted delivery caused on which object — its state follows its patches, so a delivery whose
 * patches failed does not stay a green "accepted". Bounded: the oldest record falls off.
 */

export const DELIVERY_OUTCOMES = ['accepted', 'ignored', 'rejected'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];
/**
 * Per object: `pending` until its patch ends; `selected` is a label selector's row (its objects have their own
 * rows); the rest are final.
 */
export type ObjectState = 'pending' | 'selected' | 'patched' | 'dry-run' | 'not-found' | 'forbidden' | 'failed';
/**
 * An accepted delivery's state, from its objects': waiting, all patched, some failed, all failed; `relayed` for one
 * a relay's edge kept for its subscribers and nothing else.
 */
export const DELIVERY_STATES = ['pending', 'patched', 'dry-run', 'partly-failed', 'failed', 'relayed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

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

/**
 * Where a followed object is (feedback:): `following` until its controller answers; `handled` once it echoed the
 * request (final for kinds without a revision); `fetched` once a source has the pushed revision; `applied` once it
 * is applied and ready; `failed` when its controller says the revision failed (followed on: a retry may apply it);
 * `timed-out`, `superseded` (a newer commit took its place) and `not-followed` (no watch covers it, or too many
 * objects are followed) are final too.
 */
export const FOLLOW_STAGES = ['following', 'handled', 'fetched', 'applied', 'failed', 'timed-out', 'superseded', 'not-followed'] as const;
export type FollowStage = (typeof FOLLOW_STAGES)[number];

/** One object followed for a delivery, in one cluster: how far the pushed commit got there, and when (ms after the push). */
export interface FollowedObject {
  object: string;
  cluster?: string;
  /** For an object fluxgate did not patch itself: the followed source it uses (`GitRepository flux-system/app`). */
  via?: string;
  stage: FollowStage;
  patchedMs?: number;
  handledMs?: number;
  fetchedMs?: number;
  appliedMs?: number;
  /** When it failed, timed out or was superseded. */
  endedMs?: number;
  /** The revision the object reports (`main@sha1:…`). */
  revision?: string;
  /** The failing condition's reason and message, what superseded it, why it is not followed. */
  detail?: string;
  /** Argo CD: the Application's health beside its sync. */
  health?: string;
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
  /** Following: the instant the stage times count from, and where it comes from (the payload's push time or the arrival). */
  push?: { at: string; from: 'payload' | 'arrival' };
  /** Following: each object followed (the patched ones and those using them as their source), at most MAX_FOLLOWED_ROWS. */
  followed?: FollowedObject[];
  /** On a relay's edge: the subscribers that keep its events. */
  relayedTo?: string[];
  /** On an agent: the edge's delivery this event came from (`provider`, `type` are then the upstream and `relay`). */
  relayedFrom?: { provider: string; type: string; deliveryId?: string; receivedAt: string };
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
  /** Keeps `record` itself, not a copy (the caller hands over an object it made for this). */
  add(record: Omit<DeliveryRecord, 'objects' | 'state'>): void;
  /**
   * Records what the delivery with this ticket caused on an object (in a cluster); a later state replaces an earlier
   * one. A new object's `effect` is kept as given, not copied.
   */
  effect(ticket: number, effect: ObjectEffect): void;
  /** Newest first, filtered. */
  recent(filter?: DeliveryFilter): DeliveryRecord[];
  /** A delivery by its provider's delivery id, or `fluxgate-<ticket>` for one without. */
  find(id: string): DeliveryRecord | undefined;
  /** Puts back records read from the store at start (oldest first), with their objects and states. */
  restore(records: readonly DeliveryRecord[]): void;
  /**
   * Records how far a followed object got for the delivery with this ticket (a later row of the same cluster and
   * object replaces the earlier one), and the push instant its times count from. A ticket without a record is ignored.
   */
  follow(ticket: number, row: FollowedObject, push?: DeliveryRecord['push']): void;
}

export interface DeliveryLogOptions {
  /** Called after a record was added or changed (the store writes it with its next commit). */
  changed?(record: DeliveryRecord): void;
}

/** How many of a delivery's objects are in each state. */
export type StateCounts = Record<ObjectState, number>;

/** The delivery's state from how many of its objects are in each state (label selector rows do not count: their objects do). */
export function stateFromCounts(counts: Readonly<StateCounts>): DeliveryState {
  const total = counts.pending + counts.patched + counts['dry-run'] + counts['not-found'] + counts.forbidden + counts.failed;
  if (total === 0 || counts.pending > 0) return 'pending';
  const succeeded = counts.patched + counts['dry-run'];
  if (succeeded === 0) return 'failed';
  if (succeeded < total) return 'partly-failed';
  return counts['dry-run'] === total ? 'dry-run' : 'patched';
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
export function createDeliveryLog(capacity = 100, options: DeliveryLogOptions = {}): DeliveryLog {
  const changed = options.changed ?? (() => {});
  // A ring of the last `capacity` records (up to 10,000): adding one is O(1) at any size.
  const slots: (DeliveryRecord | undefined)[] = new Array(capacity);
  let next = 0;
  let size = 0;
  // Accepted records by ticket, with what their objects' states add up to.
  const byTicket = new Map<number, Tracked>();
  // Effects reported before their delivery's record: reconcile may start as soon as the journal has the work, a
  // moment before the record is added (and, with a shared store, on another replica). Applied when it comes.
  const early = new Map<number, ObjectEffect[]>();
  const newestFirst = function* (): Generator<DeliveryRecord> {
    for (let offset = 1; offset <= size; offset += 1) yield slots[(next - offset + capacity) % capacity]!;
  };
  function addEffect(ticket: number, effect: ObjectEffect): void {
    const tracked = byTicket.get(ticket);
    if (!tracked) {
      keepEarly(early, ticket, effect);
      return;
    }
    const { record, counts } = tracked;
    const existing = tracked.index ? tracked.index.get(effectKey(effect)) : record.objects.find((object) => sameObject(object, effect));
    if (existing) {
      counts[existing.state] -= 1;
      // A later state replaces the earlier one; its detail goes with it (a "coalesced" note does not outlive the
      // patch it waited for), what found the object (its rule) stays.
      Object.assign(existing, CLEARED, effect);
    } else {
      record.objects.push(effect);
      if (tracked.index) tracked.index.set(effectKey(effect), effect);
      else if (record.objects.length > INDEX_ABOVE) tracked.index = new Map(record.objects.map((object) => [effectKey(object), object]));
    }
    counts[effect.state] += 1;
    record.state = stateFromCounts(counts);
    changed(record);
  }

  function keep(entry: DeliveryRecord): void {
    const dropped = slots[next];
    if (dropped?.ticket !== undefined) byTicket.delete(dropped.ticket);
    slots[next] = entry;
    next = (next + 1) % capacity;
    size = Math.min(size + 1, capacity);
  }

  return {
    add(record) {
      const entry = record as DeliveryRecord;
      entry.objects = [];
      if (entry.outcome === 'accepted') entry.state = entry.targets.length === 0 && (entry.relayedTo?.length ?? 0) > 0 ? 'relayed' : 'pending';
      keep(entry);
      changed(entry);
      if (entry.ticket === undefined) return;
      byTicket.set(entry.ticket, { record: entry, counts: { pending: 0, selected: 0, patched: 0, 'dry-run': 0, 'not-found': 0, forbidden: 0, failed: 0 } });
      const waiting = early.get(entry.ticket);
      if (waiting === undefined) return;
      early.delete(entry.ticket);
      for (const effect of waiting) addEffect(entry.ticket, effect);
    },
    effect: addEffect,
    restore(records) {
      for (const record of records) {
        keep(record);
        if (record.ticket !== undefined) byTicket.set(record.ticket, restored(record));
      }
    },
    follow(ticket, row, push) {
      const record = byTicket.get(ticket)?.record;
      if (record && followRow(record, row, push)) changed(record);
    },
    recent: (filter = {}) => [...newestFirst()].filter((record) => matches(record, filter)),
    find(id) {
      for (const record of newestFirst()) if (deliveryKey(record) === id) return record;
      return undefined;
    },
  };
}

/** Followed objects one record keeps at most: a source with thousands of dependants keeps its record small. */
export const MAX_FOLLOWED_ROWS = 200;

/** A record read back from the store, with what its objects' states add up to. */
function restored(record: DeliveryRecord): Tracked {
  const counts: StateCounts = { pending: 0, selected: 0, patched: 0, 'dry-run': 0, 'not-found': 0, forbidden: 0, failed: 0 };
  for (const object of record.objects) counts[object.state] += 1;
  return { record, counts, ...(record.objects.length > INDEX_ABOVE ? { index: new Map(record.objects.map((object) => [effectKey(object), object])) } : {}) };
}

/**
 * Puts `row` in place of the record's row for the same object and cluster, or adds it, and the push instant when the
 * record has none; false when the record is full.
 */
function followRow(record: DeliveryRecord, row: FollowedObject, push: DeliveryRecord['push']): boolean {
  if (push && !record.push) record.push = push;
  const rows = (record.followed ??= []);
  const index = rows.findIndex((existing) => sameObject(existing, row));
  if (index >= 0) rows[index] = row;
  else if (rows.length < MAX_FOLLOWED_ROWS) rows.push(row);
  else return false;
  return true;
}

/** Tickets whose effects wait for their record at most: a record that never comes (refused) costs nothing for long. */
const EARLY_TICKETS = 1024;

function keepEarly(early: Map<number, ObjectEffect[]>, ticket: number, effect: ObjectEffect): void {
  const effects = early.get(ticket);
  if (effects !== undefined) {
    if (effects.length < EARLY_EFFECTS) effects.push(effect);
    return;
  }
  if (early.size >= EARLY_TICKETS) early.delete(early.keys().next().value!);
  early.set(ticket, [effect]);
}

/** Effects kept per waiting ticket (later ones replace earlier ones per object when applied, so a few suffice). */
const EARLY_EFFECTS = 64;

interface Tracked {
  record: DeliveryRecord;
  counts: StateCounts;
  /** Its objects by cluster and object, once there are more than INDEX_ABOVE: a delivery of thousands updates each in O(1). */
  index?: Map<string, ObjectEffect>;
}

/**
 * Most deliveries concern a few objects, found faster by a scan of them than through a map built for each
 * delivery (at thousands of deliveries a second, that map was most of what recording one cost).
 */
const INDEX_ABOVE = 16;
const CLEARED: Partial<ObjectEffect> = Object.freeze({ detail: undefined, attempts: undefined, latencyMs: undefined });

function effectKey(effect: Pick<ObjectEffect, 'cluster' | 'object'>): string {
  return `${effect.cluster ?? ''}\u0000${effect.object}`;
}

function sameObject(a: Pick<ObjectEffect, 'cluster' | 'object'>, b: Pick<ObjectEffect, 'cluster' | 'object'>): boolean {
  return a.object === b.object && (a.cluster ?? '') === (b.cluster ?? '');
}
