/**
 * The journal on sqlite (`state.store: sqlite`, the default): each group commit is one transaction appended to the
 * file's write-ahead log; with `state.sync: full` the log is then synced to disk by the file system's thread pool
 * (an fsync off the event loop), and only after that are the commit's deliveries answered 202 — so a sync to disk
 * never stops the answering of webhooks, and a burst that arrives meanwhile shares the next one. Here, what a
 * commit carries is serialized (the journal's changes and the delivery records that changed), and what the file
 * held at start is parsed back.
 */
import { closeSync, fsync, openSync, statSync } from 'node:fs';
import type { WorkItem } from '../reconcile/index.ts';
import type { DeliveryRecord } from './delivery-log.ts';
import type { FailureRecord } from './failure-list.ts';
import type { JournalChanges, JournalState } from './journal-store.ts';
import { openSqlite, type SqliteOptions } from './sqlite-file.ts';
import { sqliteTables, type CommitRows, type Retention, type SqliteTables, type StoredRows } from './sqlite-tables.ts';

/** What the file held at start, parsed: the journal's state and the newest delivery records (oldest first). */
export interface SqliteContents {
  path: string;
  journal: JournalState;
  records: DeliveryRecord[];
  movedAside?: { to: string; reason: string };
  migrated: { from: number; to: number };
}

export interface SqliteFile {
  /** Opens the file and reads it back; rejects with sqlite's or the system's error (its `code` kept) when it cannot. */
  open(now: number): Promise<SqliteContents>;
  /** One commit: the journal's changes and every delivery record changed since the last one; with `sync: full`, resolves once on disk. */
  write(changes: JournalChanges): void | Promise<void>;
  /** A record that changed: written with the next commit. */
  recordChanged(record: DeliveryRecord): void;
  /** Retention: drops expired delivery ids and old records; gives pages back. */
  maintain(now: number): Promise<void>;
  /** The database file and its write-ahead log, in bytes. */
  sizeBytes(): number;
  /** Closes the file. */
  close(): Promise<void>;
}

/**
 * @example
 * const file = sqliteFile({ directory, maxSizeBytes }, { deliveries: 100, maxAgeMs, dedupeWindowMs }, 'full');
 * const contents = await file.open(Date.now());
 */
export function sqliteFile(options: Omit<SqliteOptions, 'now'>, retention: Retention, sync: 'full' | 'normal'): SqliteFile {
  let tables: SqliteTables | undefined;
  let path = '';
  const records = recordBook();
  const log = writeAheadLog(() => `${path}-wal`);
  return {
    async open(now) {
      const opened = openSqlite({ ...options, now: () => now });
      tables = sqliteTables(opened, retention);
      path = opened.path;
      const rows = tables.read(now);
      return { path, ...parse(rows, records), migrated: opened.migrated, ...(opened.movedAside ? { movedAside: opened.movedAside } : {}) };
    },
    write(changes) {
      const taken = records.take();
      try {
        tables!.commit(rowsOf(changes, taken));
      } catch (error) {
        records.giveBack(taken);
        throw error;
      }
      return sync === 'full' ? log.sync() : undefined;
    },
    recordChanged: (record) => records.changed(record),
    async maintain(now) {
      tables!.maintain(now);
    },
    sizeBytes: () => sizeOf(path),
    async close() {
      tables?.close();
      tables = undefined;
      log.close();
    },
  };
}

/**
 * The write-ahead log, synced on the file system's thread pool (an fsync on any descriptor of the file flushes the
 * file). Opened when first synced: sqlite creates the log with the first commit.
 */
function writeAheadLog(path: () => string) {
  let fd: number | undefined;
  return {
    sync(): Promise<void> {
      fd ??= openSync(path(), 'r');
      const descriptor = fd;
      return new Promise((resolve, reject) => fsync(descriptor, (error) => (error ? reject(error) : resolve())));
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** The delivery records the file holds, by their row (a record is found again by identity), and those that changed. */
function recordBook() {
  const seqOf = new WeakMap<DeliveryRecord, number>();
  let dirty = new Set<DeliveryRecord>();
  let next = 1;
  return {
    known(record: DeliveryRecord, seq: number) {
      seqOf.set(record, seq);
      next = Math.max(next, seq + 1);
    },
    changed: (record: DeliveryRecord) => void dirty.add(record),
    /** The records changed since the last commit, as rows; later changes go to the next one. */
    take(): [number, number, string, DeliveryRecord][] {
      const taken = [...dirty].map((record): [number, number, string, DeliveryRecord] => {
        let seq = seqOf.get(record);
        if (seq === undefined) seqOf.set(record, (seq = next++));
        return [seq, Date.parse(record.receivedAt) || 0, JSON.stringify(record), record];
      });
      dirty = new Set();
      return taken;
    },
    /** A commit failed: its records are written by a later one. */
    giveBack(taken: readonly [number, number, string, DeliveryRecord][]) {
      for (const [, , , record] of taken) dirty.add(record);
    },
  };
}

function parse(rows: StoredRows, records: ReturnType<typeof recordBook>): Pick<SqliteContents, 'journal' | 'records'> {
  const journal: JournalState = {
    items: rows.items.map((json) => JSON.parse(json) as WorkItem),
    failures: rows.failures.map((json) => JSON.parse(json) as FailureRecord),
    seen: rows.seen,
    nextSeq: rows.nextSeq,
    relay: rows.relay,
  };
  const parsed = rows.records.map(([seq, json]) => {
    const record = JSON.parse(json) as DeliveryRecord;
    records.known(record, seq);
    return record;
  });
  return { journal, records: parsed };
}

function rowsOf(changes: JournalChanges, records: readonly [number, number, string, DeliveryRecord][]): CommitRows {
  return {
    items: [...changes.items].map(([id, item]) => [id, item === null ? null : JSON.stringify(storedItem(item))]),
    failures: [...changes.failures].map(([seq, failure]) => [seq, failure?.failedAt ?? 0, failure === null ? null : JSON.stringify({ ...failure, item: storedItem(failure.item) })]),
    seen: changes.seen.map((seen) => [seen.provider, seen.deliveryId, seen.at]),
    nextSeq: changes.nextSeq,
    records: records.map(([seq, receivedAt, json]) => [seq, receivedAt, json]),
    ...(changes.relay ? { relay: changes.relay } : {}),
  };
}

/** An item as stored: a filter is a function bound to one delivery and never leaves the process. */
function storedItem(item: WorkItem): WorkItem {
  if (item.selector.filter === undefined) return item;
  const { filter: _filter, ...selector } = item.selector;
  return { ...item, selector };
}

function sizeOf(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // no file (not opened yet) or no write-ahead log at this moment
    }
  }
  return total;
}
