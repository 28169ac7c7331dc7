/**
 * Kubernetes Events on the objects fluxgate asks to reconcile, so `kubectl describe gitrepository …` and
 * `flux events` say why one reconciled: reason `ReconcileRequested`, reporting controller `fluxgate`, a note
 * naming the provider, repository, ref, commit and delivery. One Event per object per window: a further patch
 * within it adds to the Event's series (count, last seen) instead of creating another.
 *
 * An Event is a courtesy: writing one never delays or fails a reconcile request. Failures are counted and
 * logged (once per window per reason), nothing else. Writes queue behind a small number in flight, so at a high
 * rate of distinct objects Events trail their patches instead of doubling the writes the API server sees at once
 * (measured with bench/latency at 200 objects/s: unbounded Event writes took push → patch from 9 ms to 83 ms
 * p50); an object patched again while its Event waits adds to that Event instead of queueing another. And while
 * patches are waiting or running in the cluster (`busy`), Events wait for them, up to `maxDelayMs`: a push that
 * fans out to a thousand objects gets its patches through first, then their Events (bench/fanout).
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/index.ts';
import type { KubeApi, ObjectRef } from './client.ts';
import type { Ticket } from '../core/index.ts';

export interface EventRecorder {
  /** An object was patched for these tickets (newest last); `uid` is the object's, from the patch's answer. */
  requested(ref: ObjectRef, uid: string | undefined, tickets: readonly Ticket[], untracked: number): void;
  /** The cluster's patches are done for now: waiting Events are written. */
  wake(): void;
}

export interface EventRecorderOptions {
  api: KubeApi;
  clock: Clock;
  /** One Event per object within this long; later patches add to its series. */
  windowMs: number;
  /** `reportingInstance`: which fluxgate (the host name). */
  instance: string;
  failed(reason: string, error: string): void;
  /** True while patches wait or run in the cluster: Events wait (default: never busy). */
  busy?(): boolean;
  /** The longest an Event waits for `busy` to end (default 5 s). */
  maxDelayMs?: number;
}

/** Events kept to aggregate into: beyond this many objects the oldest is forgotten (its next patch gets a new Event). */
const MAX_TRACKED = 10_000;
/** Event writes in flight at once, per cluster; the rest wait their turn. */
const IN_FLIGHT = 4;
/** Objects whose Event may wait at once; beyond, a new object's Event is dropped and counted as failed. */
const MAX_QUEUED = 10_000;

/** RFC 3339 with microseconds: the MicroTime the Events API wants. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The sentence on the Event: the newest cause, and how many more deliveries the same patch served. */
export function eventNote(tickets: readonly Ticket[], untracked: number): string {
  const cause = tickets.at(-1)?.cause;
  const more = tickets.length - 1 + untracked;
  const also = more > 0 ? ` (and ${more} more ${more === 1 ? 'delivery' : 'deliveries'})` : '';
  if (!cause) return `Reconcile requested by fluxgate${also}`;
  const what = [cause.event, cause.repository, cause.ref, cause.commit ? `at ${cause.commit.slice(0, 12)}` : undefined].filter(Boolean).join(' ');
  const delivery = cause.deliveryId ? ` delivery ${cause.deliveryId}` : '';
  // The API server caps a note at 1 kB.
  return `Reconcile requested by fluxgate: ${what || 'a delivery'} via ${cause.provider}${delivery}${also}`.slice(0, 1000);
}

/**
 * @example
 * const events = createEventRecorder({ api: client.api, clock, windowMs: 2000, instance: hostname(), failed });
 * events.requested({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' }, uid, tickets, 0);
 */
export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const { clock } = options;
  const write = eventWriter(options);
  /** Objects whose Event waits to be written, oldest first: the patches it stands for, the newest note, since when. */
  const queued = new Map<string, Waiting>();
  let inFlight = 0;
  const busy = options.busy ?? (() => false);
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  let timer: unknown;

  /** Whether the oldest waiting Event may go now: nothing else is being patched, or it has waited long enough. */
  function due(): boolean {
    const oldest = queued.values().next().value;
    if (oldest === undefined) return false;
    if (!busy()) return true;
    const left = oldest.since + maxDelayMs - clock.now();
    if (left <= 0) return true;
    if (timer === undefined) {
      timer = clock.setTimer(() => {
        timer = undefined;
        pump();
      }, left);
    }
    return false;
  }

  function pump(): void {
    while (inFlight < IN_FLIGHT && due()) {
      const [key, next] = queued.entries().next().value!;
      queued.delete(key);
      inFlight += 1;
      void write(key, next)
        .catch((error: Error & { status?: number }) => options.failed(error.status === 403 ? 'forbidden' : 'error', error.message))
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  }

  return {
    requested(ref, uid, tickets, untracked) {
      const key = `${ref.apiVersion}|${ref.kind}|${ref.namespace}|${ref.name}`;
      const note = eventNote(tickets, untracked);
      const waiting = queued.get(key);
      if (waiting) {
        waiting.patches += 1;
        waiting.note = note;
        waiting.uid = uid ?? waiting.uid;
      } else if (queued.size >= MAX_QUEUED) {
        options.failed('overloaded', `${MAX_QUEUED} Events are waiting to be written; the Event for ${ref.kind} ${ref.namespace}/${ref.name} is dropped`);
      } else {
        queued.set(key, { ref, uid, note, patches: 1, since: clock.now() });
      }
      pump();
    },
    wake: pump,
  };
}

/** An object's Event waiting to be written. */
interface Waiting {
  ref: ObjectRef;
  uid: string | undefined;
  note: string;
  /** Patches it stands for. */
  patches: number;
  since: number;
}

/**
 * Writes an object's Event: a new one, or, within `windowMs` of the last one created for the object, a patch of
 * that Event's series. Owns the Events it remembers (at most MAX_TRACKED objects).
 */
function eventWriter(options: EventRecorderOptions): (key: string, waiting: Waiting) => Promise<void> {
  const { api, clock } = options;
  const recent = new LRUCache<string, { name: string; firstAt: number; count: number }>({ max: MAX_TRACKED });
  let sequence = 0;
  return async (key, { ref, uid, note, patches }) => {
    const now = clock.now();
    const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(ref.namespace)}/events`;
    const open = recent.get(key);
    if (open && now - open.firstAt < options.windowMs) {
      open.count += patches;
      const body = JSON.stringify({ series: { count: open.count, lastObservedTime: microTime(now) }, note });
      await api.request('PATCH', `${path}/${encodeURIComponent(open.name)}`, { body, contentType: 'application/merge-patch+json', wantBody: false });
      return;
    }
    // client-go names Events `<object>.<unique hex>`; the time keeps names sortable, the sequence unique.
    sequence += 1;
    const name = `${ref.name.slice(0, 200)}.${now.toString(16)}${sequence.toString(16).padStart(4, '0')}`;
    recent.set(key, { name, firstAt: now, count: patches });
    try {
      await api.request('POST', path, { body: JSON.stringify(newEvent(name, { ref, uid, note, patches }, now, options.instance)), contentType: 'application/json', wantBody: false });
    } catch (error) {
      recent.delete(key); // not created: the next patch tries a new one
      throw error;
    }
  };
}

function newEvent(name: string, { ref, uid, note, patches }: Omit<Waiting, 'since'>, now: number, instance: string) {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: ref.namespace },
    eventTime: microTime(now),
    reportingController: 'fluxgate',
    reportingInstance: instance.slice(0, 128),
    action: 'RequestReconcile',
    reason: 'ReconcileRequested',
    type: 'Normal',
    regarding: { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, name: ref.name, ...(uid ? { uid } : {}) },
    note,
    // Patches that waited together for this write: the Event starts as their series.
    ...(patches > 1 ? { series: { count: patches, lastObservedTime: microTime(now) } } : {}),
  };
}
