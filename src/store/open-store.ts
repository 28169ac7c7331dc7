/**
 * Opens the store `state:` names and builds what lives in it: the journal (accepted work, delivery ids, failures)
 * and the delivery log behind the status page. `memory` keeps today's process-only behaviour; `sqlite` (the
 * default) writes through to a file in `state.path`; `nats` shares everything between replicas (nats-store.ts).
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { StateConfig } from '../config/index.ts';
import { createDeliveryLog } from './delivery-log.ts';
import { createDeliveryDeduper } from './dedupe.ts';
import { createJournal, type Journal } from './journal.ts';
import { DATABASE_FILE } from './sqlite-file.ts';
import { sqliteFile, type SqliteContents, type SqliteFile } from './sqlite-store.ts';
import { createLocalRelayLog, type LocalRelayLog } from './relay-log.ts';
import { DEDUPE_WINDOW_MS, DEFAULT_RELAY_RETENTION, type Store, type StoreOptions } from './store.ts';

/** How often retention runs (and a failing store is tried again while nothing else writes). */
const MAINTENANCE_MS = 60_000;
const RECHECK_MS = 5_000;

/** Where sqlite keeps its file: `state.path`, else systemd's `$STATE_DIRECTORY`, else `fluxgate-state` beside the config. */
export function statePath(state: StateConfig, configDir: string, env: Record<string, string | undefined>): string {
  if (state.path !== undefined) return isAbsolute(state.path) ? state.path : resolve(configDir, state.path);
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  return systemd ? systemd : join(configDir, 'fluxgate-state');
}

/**
 * @example
 * const store = await openStore({ state: config.state, configDir, env: process.env, clusters: [undefined], … });
 * await store.journal.accept(delivery);
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { state, clock, log } = options;
  const dedupe = createDeliveryDeduper({ ttlMs: DEDUPE_WINDOW_MS, maxEntriesPerProvider: 10_000, now: () => clock.now() });
  let journal: Journal | undefined;
  const relay = createLocalRelayLog({ retention: options.relayRetention ?? DEFAULT_RELAY_RETENTION, changed: () => journal?.flushSoon() });
  const journalOptions = {
    relay,
    clusters: options.clusters,
    maxPending: options.maxPending,
    dedupe,
    clock,
    requestedAt: options.requestedAt,
    feed: options.feed,
    ...(options.refused ? { refused: options.refused } : {}),
    maxFailures: state.retention.failures,
    reporter: options.reporter,
  };
  if (state.store === 'memory') {
    log.warn('state.store is memory: accepted work, delivery ids and the delivery log do not survive a restart');
    journal = createJournal(journalOptions);
    return { kind: 'memory', describe: 'memory (not durable)', durable: false, journal, deliveries: createDeliveryLog(options.recentDeliveries), relay, sizeBytes: () => undefined, close: async () => {} };
  }
  if (state.store === 'nats') {
    const { openNatsStore } = await import('./nats-store.ts');
    return openNatsStore(options, dedupe);
  }
  const store = await openSqliteStore(options, journalOptions);
  journal = store.journal;
  return store;
}

/**
 * Whether opening the state failed for a reason that may pass (a read-only or full file system, permissions): the
 * gateway then serves, answers 503 and tries again, instead of exiting into a restart loop. Anything else (a file
 * written by a newer fluxgate, another gateway on it) is a mistake to fix, and ends the start.
 */
function mayPass(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  return ['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'EIO', 'EFBIG', 'SQLITE_CANTOPEN', 'SQLITE_FULL'].includes(code) || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR');
}

async function openSqliteStore(options: StoreOptions, journalOptions: Omit<Parameters<typeof createJournal>[0], 'writer' | 'initial'> & { relay: LocalRelayLog }): Promise<Store> {
  const { log, state } = options;
  const directory = statePath(state, options.configDir, options.env);
  const path = join(directory, DATABASE_FILE);
  const file = sqliteFile({ directory, maxSizeBytes: state.maxSize }, { deliveries: options.recentDeliveries, maxAgeMs: state.retention.maxAge, dedupeWindowMs: DEDUPE_WINDOW_MS }, state.sync);
  const opener = sqliteOpener(file, options);
  let contents: SqliteContents | undefined;
  let startError: string | undefined;
  try {
    contents = await opener.open();
  } catch (error) {
    if (!opener.failing()) {
      await file.close();
      throw error; // not a fault that may pass: a mistake to fix before starting
    }
    startError = (error as Error).message;
    log.error('the state store cannot be opened: webhooks are answered 503 until it can (tried again every 5 s)', { path, error: startError });
  }
  const deliveries = createDeliveryLog(options.recentDeliveries, {
    changed(record) {
      file.recordChanged(record);
      journal.flushSoon();
    },
  });
  if (contents) deliveries.restore(contents.records);
  const journal = createJournal({
    ...journalOptions,
    ...(contents ? { initial: contents.journal } : {}),
    ...(startError !== undefined ? { initialError: startError } : {}),
    opened: (owed) => {
      if (owed > 0) log.info('reconciling what was accepted before the restart and not yet patched', { items: owed });
    },
    writer: {
      async open() {
        if (opener.isOpen()) return undefined;
        const late = await opener.open();
        deliveries.restore(late.records);
        return late.journal;
      },
      write: (changes) => file.write(changes),
    },
  });
  const stopMaintenance = keepMaintained(journal, file, opener, options, journalOptions.relay);
  return {
    kind: 'sqlite',
    describe: `sqlite: ${path}`,
    durable: true,
    journal,
    deliveries,
    relay: journalOptions.relay,
    sizeBytes: () => (opener.isOpen() ? file.sizeBytes() : undefined),
    async close() {
      stopMaintenance();
      if (opener.isOpen()) await journal.flush();
      await file.close();
    },
  };
}

/** The sqlite file, opened at start or, after a fault that may pass, later (tried again at most every RECHECK_MS). */
interface SqliteOpener {
  /** Opens the file and reads it back, or rejects. */
  open(): Promise<SqliteContents>;
  isOpen(): boolean;
  /** The last open failed for a reason that may pass. */
  failing(): boolean;
}

function sqliteOpener(file: SqliteFile, options: StoreOptions): SqliteOpener {
  const { state, clock, log } = options;
  let open = false;
  let triedAt = Number.NEGATIVE_INFINITY;
  let openError: Error | undefined;
  return {
    async open() {
      if (openError && clock.now() - triedAt < RECHECK_MS) throw openError;
      triedAt = clock.now();
      try {
        const contents = await file.open(clock.now());
        open = true;
        openError = undefined;
        if (contents.movedAside) {
          log.error('the state file could not be read and was moved aside; a new one is started (what it owed is not replayed: inspect the moved file)', { movedTo: contents.movedAside.to, reason: contents.movedAside.reason });
          options.movedAside?.(contents.movedAside.to);
        }
        const { migrated } = contents;
        log.info('state', { store: 'sqlite', path: contents.path, sync: state.sync, owed: contents.journal.items.length, failures: contents.journal.failures.length, deliveries: contents.records.length, ...(migrated.from !== migrated.to ? { migratedFrom: migrated.from } : {}) });
        return contents;
      } catch (error) {
        if (mayPass(error)) openError = error as Error;
        throw error;
      }
    },
    isOpen: () => open,
    failing: () => openError !== undefined,
  };
}

/** Retention every MAINTENANCE_MS, and a store that fails tried again every RECHECK_MS; returns how to stop. */
function keepMaintained(journal: Journal, file: SqliteFile, opener: SqliteOpener, options: StoreOptions, relay: LocalRelayLog): () => void {
  const { state, clock, log } = options;
  let lastMaintenance = Number.NEGATIVE_INFINITY;
  let timer: unknown;
  let stopped = false;
  const maintain = async () => {
    const now = clock.now();
    if (!journal.health().ok) await journal.check();
    if (opener.isOpen() && now - lastMaintenance >= MAINTENANCE_MS && journal.health().ok) {
      lastMaintenance = now;
      journal.expireFailures(now - state.retention.maxAge);
      relay.maintain(now);
      await journal.flush();
      try {
        await file.maintain(now);
      } catch (error) {
        log.warn('state retention could not run; it is tried again later', { error: (error as Error).message });
      }
    }
    if (!stopped) timer = clock.setTimer(() => void maintain(), RECHECK_MS);
  };
  void maintain();
  return () => {
    stopped = true;
    clock.clearTimer(timer);
  };
}
