/**
 * The relay's part of the sqlite journal: the events an edge keeps for its subscribers, each subscriber's
 * acknowledged seq, and the sequence's identity and head (in `meta`). Written inside the journal's commit
 * (sqlite-store.ts), so a delivery and its events are on disk together before the 202.
 */
import type { Database } from 'bun:sqlite';
import type { RelayEvent } from '../pipeline/index.ts';
import type { RelayChanges, RelayState } from './relay-log.ts';

const STREAM = 'relay_stream';
const HEAD = 'relay_head';

export type RelayStatements = ReturnType<typeof prepareRelayStatements>;

export function prepareRelayStatements(db: Database) {
  return {
    putEvent: db.prepare('INSERT INTO relay_events (seq, received_at, subscribers, event) VALUES (?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING'),
    trimEvents: db.prepare('DELETE FROM relay_events WHERE seq <= ?'),
    putCursor: db.prepare('INSERT INTO relay_cursors (subscriber, seq) VALUES (?, ?) ON CONFLICT (subscriber) DO UPDATE SET seq = max(seq, excluded.seq)'),
    putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  };
}

/** Runs inside the journal's transaction. */
export function writeRelay(statements: RelayStatements, changes: RelayChanges | undefined): void {
  if (changes === undefined) return;
  if (changes.stream !== undefined) statements.putMeta.run(STREAM, changes.stream);
  if (changes.events.length > 0) statements.putMeta.run(HEAD, changes.head);
  for (const record of changes.events) statements.putEvent.run(record.seq, record.event.receivedAt, JSON.stringify(record.to), JSON.stringify(record.event));
  for (const [subscriber, seq] of changes.cursors) statements.putCursor.run(subscriber, seq);
  if (changes.trimmedThrough > 0) statements.trimEvents.run(changes.trimmedThrough);
}

/** What the file holds of the relay (events oldest first). */
export function loadRelay(db: Database): RelayState {
  const meta = (key: string) => (db.query('SELECT value FROM meta WHERE key = ?').get(key) as { value: number } | null)?.value;
  const rows = db.query('SELECT seq, subscribers, event FROM relay_events ORDER BY seq').all() as { seq: number; subscribers: string; event: string }[];
  const events = rows.map((row) => ({ seq: row.seq, to: JSON.parse(row.subscribers) as string[], event: JSON.parse(row.event) as RelayEvent, bytes: row.event.length }));
  const cursors = db.query('SELECT subscriber, seq FROM relay_cursors').all() as { subscriber: string; seq: number }[];
  const stream = meta(STREAM);
  return { ...(stream !== undefined ? { stream } : {}), head: Math.max(meta(HEAD) ?? 0, events.at(-1)?.seq ?? 0), events, cursors };
}
