/**
 * The relay's events in memory, in the order of their sequence numbers: what every store (sqlite, memory, NATS)
 * serves an edge's streams from. Retention drops the oldest by count and age; what is dropped leaves `first()`
 * behind, so an agent that had not acknowledged it can be told it missed events.
 */
import type { RelayEvent } from '../pipeline/index.ts';

/** An event kept for subscribers, at its place in the relay's sequence. */
export interface RelayRecord {
  seq: number;
  /** Subscriber names whose filter allowed it when it was accepted. */
  to: readonly string[];
  event: RelayEvent;
  /** Its size as stored (JSON), for the store-size metric. */
  bytes: number;
}

export interface RelayRetention {
  maxEvents: number;
  maxAgeMs: number;
}

export interface RelayRecords {
  /** The last seq given out (0: none yet). */
  head(): number;
  /** The oldest seq still kept; head + 1 when none is. Everything before it is gone. */
  first(): number;
  /** Appends records with seqs above head, oldest first. */
  append(records: readonly RelayRecord[]): void;
  /** The records after `seq` addressed to `subscriber`, oldest first, at most `max`. */
  after(seq: number, subscriber: string, max: number): RelayRecord[];
  /** How many records after `seq` (and up to `through`, when given) are addressed to `subscriber`. */
  countAfter(seq: number, subscriber: string, through?: number): number;
  /** Drops records beyond the count or older than the age; returns the highest seq dropped (0: none). */
  trim(now: number): number;
  /** Sets what came before (a store read back): head, and the first seq kept when nothing is. */
  reset(head: number): void;
  size(): { events: number; bytes: number };
}

/**
 * @example
 * const records = createRelayRecords({ maxEvents: 10_000, maxAgeMs: 72 * 3_600_000 });
 * records.append([{ seq: 1, to: ['prod'], event, bytes: 420 }]);
 * records.after(0, 'prod', 100); // [the record]
 */
export function createRelayRecords(retention: RelayRetention): RelayRecords {
  // A queue: appended at the end, dropped from the front (by moving `start`, compacted now and then).
  let list: RelayRecord[] = [];
  let start = 0;
  let head = 0;
  let bytes = 0;
  /** The first position whose seq is above `seq`. */
  const positionAfter = (seq: number) => {
    let low = start;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (list[middle]!.seq <= seq) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const drop = () => {
    bytes -= list[start]!.bytes;
    const seq = list[start]!.seq;
    list[start] = undefined as unknown as RelayRecord;
    start += 1;
    return seq;
  };
  return {
    head: () => head,
    first: () => (start < list.length ? list[start]!.seq : head + 1),
    append(records) {
      for (const record of records) {
        if (record.seq <= head) continue;
        list.push(record);
        bytes += record.bytes;
        head = record.seq;
      }
    },
    after(seq, subscriber, max) {
      const found: RelayRecord[] = [];
      for (let position = positionAfter(seq); position < list.length && found.length < max; position += 1) {
        if (list[position]!.to.includes(subscriber)) found.push(list[position]!);
      }
      return found;
    },
    countAfter(seq, subscriber, through = Number.POSITIVE_INFINITY) {
      let count = 0;
      for (let position = positionAfter(seq); position < list.length && list[position]!.seq <= through; position += 1) if (list[position]!.to.includes(subscriber)) count += 1;
      return count;
    },
    trim(now) {
      let dropped = 0;
      while (start < list.length && (list.length - start > retention.maxEvents || list[start]!.event.receivedAt < now - retention.maxAgeMs)) dropped = drop();
      if (start > 1024 && start * 2 > list.length) {
        list = list.slice(start);
        start = 0;
      }
      return dropped;
    },
    reset(seq) {
      head = Math.max(head, seq);
    },
    size: () => ({ events: list.length - start, bytes }),
  };
}
