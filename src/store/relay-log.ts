/**
 * The relay's log as an edge serves it: the events kept for subscribers (relay-records.ts), what each subscriber
 * acknowledged, and the identity of the sequence. On one gateway (sqlite, memory) the journal writes it: a
 * delivery's events get their seqs when its commit is prepared and are served once that commit is written, so an
 * agent never sees an event the edge could still lose; acknowledgements and retention ride the next commit.
 */
import { randomInt } from 'node:crypto';
import type { RelayPublication } from '../pipeline/index.ts';
import { createRelayRecords, type RelayRecord, type RelayRecords, type RelayRetention } from './relay-records.ts';

export type { RelayRecord, RelayRetention } from './relay-records.ts';

/** What an edge serves its streams from, whatever the store. */
export interface RelayLog {
  /** This store's sequence: an event id of another one (a new state file, store: memory restarted) resumes nothing. */
  stream(): string;
  /** The oldest seq kept (head + 1 when none): what came before it is gone. */
  first(): number;
  /** The last seq given out (0: none). */
  head(): number;
  /** The events after `seq` for `subscriber`, oldest first, at most `max`. */
  after(seq: number, subscriber: string, max: number): RelayRecord[];
  /**
   * `subscriber` has every event of its through `seq` (kept with the next commit, or in the shared store); returns
   * how many of its events that acknowledges that were not before.
   */
  acknowledge(subscriber: string, seq: number): number;
  /** The seq `subscriber` acknowledged last (0: none). */
  acknowledged(subscriber: string): number;
  /** Events kept for `subscriber` that it has not acknowledged. */
  pending(subscriber: string): number;
  /** Calls `listener` with the events appended (oldest first); returns how to stop. */
  follow(listener: (records: readonly RelayRecord[]) => void): () => void;
  /** Events kept and their bytes. */
  size(): { events: number; bytes: number };
}

/** What a commit writes of the relay. */
export interface RelayChanges {
  /** The sequence's identity, written once (a random integer; shown in base 36). */
  stream?: number;
  head: number;
  events: readonly RelayRecord[];
  /** Subscribers' acknowledged seqs that changed. */
  cursors: ReadonlyMap<string, number>;
  /** Events up to this seq are dropped by retention (0: none). */
  trimmedThrough: number;
}

/** What a store read back of the relay. */
export interface RelayState {
  stream?: number;
  head: number;
  /** Oldest first. */
  events: RelayRecord[];
  cursors: readonly { subscriber: string; seq: number }[];
}

/** The relay's log on one gateway: the journal prepares its part of each commit. */
export interface LocalRelayLog extends RelayLog {
  restore(state: RelayState): void;
  /** `store: memory`: the events are served at once. */
  appendNow(publications: readonly RelayPublication[], now: number): void;
  /** The relay's part of a commit carrying these publications; undefined when it writes nothing. */
  prepare(publications: readonly RelayPublication[]): { changes: RelayChanges; written(now: number): void } | undefined;
  /** Retention by age while nothing is accepted (the store's maintenance). */
  maintain(now: number): void;
  /** Something waits for a commit. */
  dirty(): boolean;
}

export interface LocalRelayOptions {
  retention: RelayRetention;
  /** Acknowledgements or retention wait for a commit: the journal should make one soon. */
  changed(): void;
}

/** What the local log owns beside its records. */
interface LocalState {
  records: RelayRecords;
  stream: number;
  streamWritten: boolean;
  next: number;
  cursors: Map<string, number>;
  /** Cursors changed since the last commit. */
  dirtyCursors: Map<string, number>;
  trimmedThrough: number;
  trimWritten: number;
  listeners: Set<(records: readonly RelayRecord[]) => void>;
}

/**
 * @example
 * const relay = createLocalRelayLog({ retention: { maxEvents: 10_000, maxAgeMs: 259_200_000 }, changed: () => journal.flushSoon() });
 * const part = relay.prepare(publications); // written with the delivery; part.written(now) serves them
 */
export function createLocalRelayLog(options: LocalRelayOptions): LocalRelayLog {
  const state: LocalState = {
    records: createRelayRecords(options.retention),
    stream: randomInt(1, 2 ** 47),
    streamWritten: false,
    next: 1,
    cursors: new Map(),
    dirtyCursors: new Map(),
    trimmedThrough: 0,
    trimWritten: 0,
    listeners: new Set(),
  };
  const served = (records: readonly RelayRecord[], now: number) => {
    state.records.append(records);
    trim(state, now, options);
    if (records.length > 0) for (const listener of state.listeners) listener(records);
  };
  return {
    ...readers(state),
    acknowledge(subscriber, seq) {
      const before = state.cursors.get(subscriber) ?? 0;
      if (seq <= before || seq > state.records.head()) return 0;
      state.cursors.set(subscriber, seq);
      state.dirtyCursors.set(subscriber, seq);
      options.changed();
      return state.records.countAfter(before, subscriber, seq);
    },
    restore(stored) {
      if (stored.stream !== undefined) state.stream = stored.stream;
      state.streamWritten = stored.stream !== undefined;
      state.records.append(stored.events);
      state.records.reset(stored.head);
      state.next = state.records.head() + 1;
      for (const { subscriber, seq } of stored.cursors) state.cursors.set(subscriber, seq);
    },
    appendNow(publications, now) {
      served(numbered(state, publications), now);
    },
    prepare(publications) {
      const events = numbered(state, publications);
      if (events.length === 0 && state.dirtyCursors.size === 0 && state.trimmedThrough === state.trimWritten && state.streamWritten) return undefined;
      const cursors = new Map(state.dirtyCursors);
      const trimmedThrough = state.trimmedThrough;
      const changes: RelayChanges = { ...(state.streamWritten ? {} : { stream: state.stream }), head: state.next - 1, events, cursors, trimmedThrough };
      return {
        changes,
        written(now) {
          state.streamWritten = true;
          state.trimWritten = Math.max(state.trimWritten, trimmedThrough);
          for (const [subscriber, seq] of cursors) if (state.dirtyCursors.get(subscriber) === seq) state.dirtyCursors.delete(subscriber);
          served(events, now);
        },
      };
    },
    maintain: (now) => trim(state, now, options),
    dirty: () => state.dirtyCursors.size > 0 || state.trimmedThrough !== state.trimWritten,
  };
}

/** The reading side, the same for every local log. */
function readers(state: LocalState): Omit<RelayLog, 'acknowledge'> {
  return {
    stream: () => state.stream.toString(36),
    first: () => state.records.first(),
    head: () => state.records.head(),
    after: (seq, subscriber, max) => state.records.after(seq, subscriber, max),
    acknowledged: (subscriber) => state.cursors.get(subscriber) ?? 0,
    pending: (subscriber) => state.records.countAfter(state.cursors.get(subscriber) ?? 0, subscriber),
    follow(listener) {
      state.listeners.add(listener);
      return () => void state.listeners.delete(listener);
    },
    size: () => state.records.size(),
  };
}

/** The publications as records with the next seqs (given out now: a commit that fails leaves a gap, never a reuse). */
function numbered(state: LocalState, publications: readonly RelayPublication[]): RelayRecord[] {
  return publications.map((publication) => {
    const event = publication.event;
    return { seq: state.next++, to: publication.to, event, bytes: JSON.stringify(event).length };
  });
}

function trim(state: LocalState, now: number, options: LocalRelayOptions): void {
  const dropped = state.records.trim(now);
  if (dropped <= state.trimmedThrough) return;
  state.trimmedThrough = dropped;
  options.changed();
}
