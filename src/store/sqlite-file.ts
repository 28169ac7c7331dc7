/**
 * Opens the journal's sqlite file: WAL mode (a commit is one append, readers never wait), the process holds it
 * alone (a second fluxgate on the same directory is refused, not interleaved), a size bound, and the schema brought
 * up to date. A file sqlite cannot read is moved aside, loudly, and a new one is started: the gateway keeps its
 * promise for what comes next instead of crash-looping on what it cannot read.
 */
import { Database } from 'bun:sqlite';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from './sqlite-schema.ts';

export interface SqliteOptions {
  /** The state directory. */
  directory: string;
  maxSizeBytes: number;
  /** For the name of a file moved aside. */
  now: () => number;
}

export interface OpenedSqlite {
  db: Database;
  path: string;
  /** Set when the previous file could not be read and was moved here. */
  movedAside?: { to: string; reason: string };
  migrated: { from: number; to: number };
}

export const DATABASE_FILE = 'fluxgate.db';
const PAGE_SIZE = 4096;
const LOCK_WAIT_MS = 3000;

/** sqlite's answer for a file that is not (or no longer) a database it can read. */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'));
}

/**
 * @example
 * const { db } = openSqlite({ directory: '/var/lib/fluxgate', maxSizeBytes: 256 * 2 ** 20, now: Date.now });
 */
export function openSqlite(options: SqliteOptions, read: (db: Database) => void = () => {}): OpenedSqlite {
  mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  const path = join(options.directory, DATABASE_FILE);
  try {
    return { ...prepare(path, options, read), path };
  } catch (error) {
    if (!isCorruption(error)) throw error;
    const to = `${path}.corrupt-${new Date(options.now()).toISOString().replace(/[:.]/g, '-')}`;
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, to + suffix);
    return { ...prepare(path, options, read), path, movedAside: { to, reason: (error as Error).message } };
  }
}

function prepare(path: string, options: SqliteOptions, read: (db: Database) => void): Omit<OpenedSqlite, 'path' | 'movedAside'> {
  const db = new Database(path, { create: true, strict: true });
  try {
    // A newly created file: pages freed by retention go back with incremental_vacuum (set before the first table).
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
    db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    // A gateway restarted right after a stop may find its predecessor still letting go of the file: it waits a moment.
    db.exec(`PRAGMA busy_timeout = ${LOCK_WAIT_MS}`);
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    const mode = db.query('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
    if (mode.journal_mode !== 'wal') throw new Error(`sqlite could not use WAL mode here (journal_mode ${mode.journal_mode})`);
    // A commit appends to the write-ahead log without waiting for the disk: with `sync: full` the store syncs the log
    // itself, off the event loop, before anyone is answered (sqlite-store.ts); sqlite syncs it around checkpoints.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(`PRAGMA max_page_count = ${Math.max(64, Math.floor(options.maxSizeBytes / PAGE_SIZE))}`);
    // Takes the exclusive lock now, for as long as the process runs.
    db.exec('BEGIN IMMEDIATE');
    db.exec('COMMIT');
    const migrated = migrate(db);
    read(db);
    return { db, migrated };
  } catch (error) {
    db.close(true);
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new Error(`${path} is in use by another fluxgate (waited ${LOCK_WAIT_MS / 1000} s): each gateway needs its own state.path (several replicas share state with store: nats)`);
    throw error;
  }
}
