/**
 * The journal's tables in the sqlite file: one
 * transaction per commit (items, failures, delivery ids, the next sequence, delivery records), everything read back at
 * start, and the retention that keeps the file small. Rows arrive already serialized (JSON): a commit only binds.
 */
import type { Database } from 'bun:sqlite';
import type { RelayChanges, RelayState } from './relay-log.ts';
import type { OpenedSqlite } from './sqlite-file.ts';
import { loadRelay, prepareRelayStatements, writeRelay } from './sqlite-relay.ts';

/** One commit, as rows: `json` null deletes the row. */
export interface CommitRows {
  items: [id: string, json: string | null][];
  failures: [seq: number, failedAt: number, json: string | null][];
  seen: [provider: string, deliveryId: string, at: number][];
  nextSeq: number;
  records: [seq: number, receivedAt: number, json: string][];
  /** On a relay's edge: the events kept for subscribers with these deliveries, acknowledgements, retention. */
  relay?: RelayChanges;
}

/** What the file holds, as rows (parsed by the caller). */
export interface StoredRows {
  items: string[];
  failures: string[];
  seen: { provider: string; deliveryId: string; at: number }[];
  nextSeq: number;
  /** The newest delivery records, oldest first. */
  records: [seq: number, json: string][];
  relay: RelayState;
}

export interface Retention {
  /** Delivery records kept at most (the newest). */
  deliveries: number;
  /** Records older than this go. */
  maxAgeMs: number;
  /** Delivery ids are kept this long (the dedupe window) and no longer. */
  dedupeWindowMs: number;
}

export interface SqliteTables {
  commit(rows: CommitRows): void;
  read(now: number): StoredRows;
  /** Drops expired delivery ids and records beyond the count or age; gives pages back; cuts the write-ahead log. */
  maintain(now: number): void;
  close(): void;
}

const NEXT_SEQ = 'next_seq';

/**
 * @example
 * const tables = sqliteTables(openSqlite(options), { deliveries: 100, maxAgeMs: 7 * 86_400_000, dedupeWindowMs: 660_000 });
 * tables.commit({ items: [['id', '{…}']], failures: [], seen: [], nextSeq: 2, records: [] });
 */
export function sqliteTables(opened: OpenedSqlite, retention: Retention): SqliteTables {
  const { db } = opened;
  const statements = prepareStatements(db);
  const relayStatements = prepareRelayStatements(db);
  let newestRecord = 0;
  const commit = db.transaction((rows: CommitRows) => {
    for (const [id, json] of rows.items) {
      if (json === null) statements.deleteItem.run(id);
      else statements.putItem.run(id, json);
    }
    for (const [seq, failedAt, json] of rows.failures) {
      if (json === null) statements.deleteFailure.run(seq);
      else statements.putFailure.run(seq, failedAt, json);
    }
    for (const [provider, deliveryId, at] of rows.seen) statements.putSeen.run(provider, deliveryId, at);
    statements.putMeta.run(NEXT_SEQ, rows.nextSeq);
    for (const [seq, receivedAt, json] of rows.records) {
      statements.putRecord.run(seq, receivedAt, json);
      newestRecord = Math.max(newestRecord, seq);
    }
    writeRelay(relayStatements, rows.relay);
  });
  return {
    commit,
    read(now) {
      const items = (db.query('SELECT item FROM work').all() as { item: string }[]).map((row) => row.item);
      const failures = (db.query('SELECT failure FROM failures ORDER BY seq').all() as { failure: string }[]).map((row) => row.failure);
      const seen = db.query('SELECT provider, delivery_id AS deliveryId, at FROM seen WHERE at > ?').all(now - retention.dedupeWindowMs) as StoredRows['seen'];
      const meta = db.query('SELECT value FROM meta WHERE key = ?').get(NEXT_SEQ) as { value: number } | null;
      const rows = db.query('SELECT seq, record FROM deliveries ORDER BY seq DESC LIMIT ?').all(retention.deliveries) as { seq: number; record: string }[];
      newestRecord = rows[0]?.seq ?? 0;
      return { items, failures, seen, nextSeq: meta?.value ?? 1, records: rows.reverse().map((row) => [row.seq, row.record]), relay: loadRelay(db) };
    },
    maintain(now) {
      db.transaction(() => {
        statements.expireSeen.run(now - retention.dedupeWindowMs);
        statements.trimRecords.run(newestRecord - retention.deliveries, now - retention.maxAgeMs);
      })();
      db.exec('PRAGMA incremental_vacuum');
      // The write-ahead log is folded into the file and cut back, so it does not grow with the traffic.
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    },
    close() {
      // Prepared statements keep a connection (and its exclusive lock) open past close(): finalized first.
      for (const statement of [...Object.values(statements), ...Object.values(relayStatements)]) statement.finalize();
      db.close(true);
    },
  };
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
