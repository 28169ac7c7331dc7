/**
 * The journal on sqlite (`state.store: sqlite`, the default): what the journal commits, the delivery log's records
 * and the retention that keeps the file small. Every write of a moment goes in one transaction (the journal's group
 * commit), so many webhooks share one sync to disk.
 */
import type { Database } from 'bun:sqlite';
import { statSync } from 'node:fs';
import type { DeliveryRecord } from './delivery-log.ts';
import type { WorkItem } from '../reconcile/index.ts';
import type { FailureRecord, JournalChanges, JournalState, JournalWriter } from './journal.ts';
import type { OpenedSqlite } from './sqlite-file.ts';
import { loadRelay, prepareRelayStatements, writeRelay } from './sqlite-relay.ts';

/** Delivery ids are kept this long (the dedupe window) and no longer. */
export interface SqliteRetention {
  /** Delivery records kept at most (the newest). */
  deliveries: number;
  /** Records older than this go. */
  maxAgeMs: number;
  dedupeWindowMs: number;
}

export interface SqliteJournal extends JournalWriter {
  /** What the journal and the delivery log read back at start (records oldest first). */
  load(now: number): { journal: JournalState; records: DeliveryRecord[] };
  /** A record that changed: written with the next commit. */
  recordChanged(record: DeliveryRecord): void;
  /** Retention: drops expired delivery ids and records beyond the count or age; gives pages back. */
  maintain(now: number): void;
  /** The database file and its write-ahead log, in bytes. */
  sizeBytes(): number;
  close(): void;
}

const NEXT_SEQ = 'next_seq';

/**
 * @example
 * const sqlite = sqliteJournal(openSqlite(options), { deliveries: 100, maxAgeMs: 7 * 86_400_000, dedupeWindowMs: 660_000 });
 * const journal = createJournal({ …, writer: sqlite, initial: sqlite.load(Date.now()).journal });
 */
export function sqliteJournal(opened: OpenedSqlite, retention: SqliteRetention): SqliteJournal {
  const { db } = opened;
  const statements = prepareStatements(db);
  const relayStatements = prepareRelayStatements(db);
  const recordSeq = new WeakMap<DeliveryRecord, number>();
  const dirtyRecords = new Set<DeliveryRecord>();
  let nextRecord = 1;

  const writeRecords = () => {
    for (const record of dirtyRecords) {
      let seq = recordSeq.get(record);
      if (seq === undefined) recordSeq.set(record, (seq = nextRecord++));
      statements.putRecord.run(seq, Date.parse(record.receivedAt) || 0, JSON.stringify(record));
    }
  };

  const commit = db.transaction((changes: JournalChanges) => {
    for (const [id, item] of changes.items) {
      if (item === null) statements.deleteItem.run(id);
      else statements.putItem.run(id, JSON.stringify(storedItem(item)));
    }
    for (const [seq, failure] of changes.failures) {
      if (failure === null) statements.deleteFailure.run(seq);
      else statements.putFailure.run(seq, failure.failedAt, JSON.stringify({ ...failure, item: storedItem(failure.item) }));
    }
    for (const seen of changes.seen) statements.putSeen.run(seen.provider, seen.deliveryId, seen.at);
    statements.putMeta.run(NEXT_SEQ, changes.nextSeq);
    writeRelay(relayStatements, changes.relay);
    writeRecords();
  });

  return {
    write(changes) {
      commit(changes);
      dirtyRecords.clear();
    },
    load(now) {
      const items = (db.query('SELECT item FROM work').all() as { item: string }[]).map((row) => JSON.parse(row.item) as WorkItem);
      const failures = (db.query('SELECT failure FROM failures ORDER BY seq').all() as { failure: string }[]).map((row) => JSON.parse(row.failure) as FailureRecord);
      const seen = (db.query('SELECT provider, delivery_id AS deliveryId, at FROM seen WHERE at > ?').all(now - retention.dedupeWindowMs) as { provider: string; deliveryId: string; at: number }[]);
      const meta = db.query('SELECT value FROM meta WHERE key = ?').get(NEXT_SEQ) as { value: number } | null;
      const rows = db.query('SELECT seq, record FROM deliveries ORDER BY seq DESC LIMIT ?').all(retention.deliveries) as { seq: number; record: string }[];
      const records = rows.reverse().map((row) => {
        const record = JSON.parse(row.record) as DeliveryRecord;
        recordSeq.set(record, row.seq);
        return record;
      });
      nextRecord = (rows.at(-1)?.seq ?? 0) + 1;
      return { journal: { items, failures, seen, nextSeq: meta?.value ?? 1, relay: loadRelay(db) }, records };
    },
    recordChanged(record) {
      dirtyRecords.add(record);
    },
    maintain(now) {
      db.transaction(() => {
        statements.expireSeen.run(now - retention.dedupeWindowMs);
        statements.trimRecords.run(nextRecord - 1 - retention.deliveries, now - retention.maxAgeMs);
      })();
      db.exec('PRAGMA incremental_vacuum');
      // The write-ahead log is folded into the file and cut back, so it does not grow with the traffic.
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    },
    sizeBytes() {
      let total = 0;
      for (const suffix of ['', '-wal']) {
        try {
          total += statSync(opened.path + suffix).size;
        } catch {
          // no write-ahead log at this moment
        }
      }
      return total;
    },
    close() {
      // Prepared statements keep a connection (and its exclusive lock) open past close(): finalized first.
      for (const statement of [...Object.values(statements), ...Object.values(relayStatements)]) statement.finalize();
      db.close(true);
    },
  };
}

/** An item as stored: a filter is a function bound to one delivery and never leaves the process. */
function storedItem(item: WorkItem): WorkItem {
  if (item.selector.filter === undefined) return item;
  const { filter: _filter, ...selector } = item.selector;
  return { ...item, selector };
}

function prepareStatements(db: Database) {
  return {
    putItem: db.prepare('INSERT INTO work (id, item) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET item = excluded.item'),
    deleteItem: db.prepare('DELETE FROM work WHERE id = ?'),
    putFailure: db.prepare('INSERT INTO failures (seq, failed_at, failure) VALUES (?, ?, ?) ON CONFLICT (seq) DO UPDATE SET failure = excluded.failure'),
    deleteFailure: db.prepare('DELETE FROM failures WHERE seq = ?'),
    putSeen: db.prepare('INSERT INTO seen (provider, delivery_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    putRecord: db.prepare('INSERT INTO deliveries (seq, received_at, record) VALUES (?, ?, ?) ON CONFLICT (seq) DO UPDATE SET record = excluded.record'),
    expireSeen: db.prepare('DELETE FROM seen WHERE at <= ?'),
    trimRecords: db.prepare('DELETE FROM deliveries WHERE seq <= ? OR received_at < ?'),
  };
}
