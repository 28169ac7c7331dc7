/**
 * The sqlite journal's tables, by schema version. A database is migrated forward one version at a time inside a
 * transaction; one written by a newer fluxgate is refused rather than misread.
 */
import type { Database } from 'bun:sqlite';

/** Each entry takes the database from version `index` to `index + 1`. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE work (id TEXT PRIMARY KEY, item TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE failures (seq INTEGER PRIMARY KEY, failed_at INTEGER NOT NULL, failure TEXT NOT NULL);
   CREATE TABLE seen (provider TEXT NOT NULL, delivery_id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (provider, delivery_id)) WITHOUT ROWID;
   CREATE INDEX seen_by_time ON seen (at);
   CREATE TABLE deliveries (seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, record TEXT NOT NULL);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`,
  // A relay's edge: the events kept for subscribers (sqlite-relay.ts), and what each acknowledged.
  `CREATE TABLE relay_events (seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, subscribers TEXT NOT NULL, event TEXT NOT NULL);
   CREATE TABLE relay_cursors (subscriber TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings `db` to SCHEMA_VERSION; throws when it was written by a newer fluxgate. */
export function migrate(db: Database): { from: number; to: number } {
  const from = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (from > SCHEMA_VERSION) {
    throw new Error(`the state was written by a newer fluxgate (schema ${from}, this one reads up to ${SCHEMA_VERSION}): upgrade fluxgate, or point state.path at another directory`);
  }
  for (let version = from; version < SCHEMA_VERSION; version += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    })();
  }
  return { from, to: SCHEMA_VERSION };
}
