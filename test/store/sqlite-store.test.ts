/**
 * The sqlite store on real files: what one process commits, the next one reads back (work owed, delivery ids,
 * failures, the delivery log); one gateway per file; a file sqlite cannot read is moved aside; a newer schema is
 * refused; a full file refuses writes and recovers when retention frees room.
 */
import { describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateConfig } from '../../src/config/schema.ts';
import { Value } from '@sinclair/typebox/value';
import type { ObjectSelector } from '../../src/core/selector.ts';
import type { WorkItem } from '../../src/reconcile/work-item.ts';
import { openStore, statePath } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { quietJournalReporter } from '../support/journal.ts';
import { manualClock } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';
import { tempDir } from '../support/temp-dir.ts';

const selector = (name: string): ObjectSelector => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name, annotation: { key: 'reconcile.fluxcd.io/requestedAt' }, key: name, label: `GitRepository flux-system/${name}` });

function state(overrides: Record<string, unknown> = {}): StateConfig {
  return Value.Decode(StateConfig, Value.Default(StateConfig, { ...overrides })) as StateConfig;
}

async function open(directory: string, options: { fed?: WorkItem[]; overrides?: Record<string, unknown>; clock?: ReturnType<typeof manualClock> } = {}) {
  const clock = options.clock ?? manualClock();
  const log = memoryLogger();
  const fed = options.fed ?? [];
  let movedAside: string | undefined;
  const store = await openStore({
    state: state({ path: directory, ...options.overrides }),
    configDir: '/nonexistent',
    env: {},
    clusters: [undefined],
    maxPending: 100,
    recentDeliveries: 10,
    requestedAt: () => '2031-01-01T00:00:00.000000000Z',
    clock,
    log,
    reporter: quietJournalReporter,
    feed: (items) => void fed.push(...items),
    movedAside: (to) => void (movedAside = to),
  });
  return { store, clock, log, fed, movedAside: () => movedAside };
}

/** Lets the group commit (scheduled with setImmediate) run. */
async function committed(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/** Accepts and waits for the group commit (which runs on setImmediate). */
async function accept(store: Store, name: string, deliveryId?: string) {
  return store.journal.accept({ provider: 'github', ...(deliveryId ? { deliveryId } : {}), cause: { provider: 'github', repository: 'org/app' }, selectors: [selector(name)] });
}

describe('sqlite store', () => {
  test('what was accepted and not settled is read back and replayed by the next process, with its value; settled work is not', async () => {
    const dir = tempDir('fluxgate-sqlite-');
    const first = await open(dir.path);
    expect(await accept(first.store, 'a', 'd-1')).toMatchObject({ kind: 'accepted' });
    expect(await accept(first.store, 'b', 'd-2')).toMatchObject({ kind: 'accepted' });
    const [a] = first.fed;
    first.store.journal.settle(a!.id, a!.revision, { kind: 'done' });
    first.store.deliveries.add({ ticket: 1, provider: 'github', type: 'github', receivedAt: new Date(first.clock.now()).toISOString(), status: 202, outcome: 'accepted', targets: ['app'] });
    first.store.deliveries.effect(1, { object: 'GitRepository flux-system/a', state: 'patched', attempts: 1 });
    await committed();
    await first.store.close();

    const reopened = await open(dir.path);
    expect(reopened.store.journal.replay()).toBe(1);
    expect(reopened.fed.map((item) => [item.selector.name, item.value])).toEqual([['b', '2031-01-01T00:00:00.000000000Z']]);
    expect(await accept(reopened.store, 'c', 'd-2')).toEqual({ kind: 'duplicate' });
    expect(reopened.store.deliveries.find('fluxgate-1')).toMatchObject({ state: 'patched', objects: [{ object: 'GitRepository flux-system/a', state: 'patched' }] });
    await reopened.store.close();
  });

  test('failures survive a restart and can be retried there', async () => {
    const dir = tempDir('fluxgate-sqlite-');
    const first = await open(dir.path);
    await accept(first.store, 'gone');
    const [item] = first.fed;
    first.store.journal.settle(item!.id, item!.revision, { kind: 'failed', outcome: 'not_found', error: 'not found', attempts: 1 });
    await first.store.close();
    const second = await open(dir.path);
    expect(second.store.journal.failures().map((failure) => [failure.item.selector.name, failure.outcome])).toEqual([['gone', 'not_found']]);
    expect(second.store.journal.retry()).toBe(1);
    expect(second.fed.map((fed) => fed.selector.name)).toEqual(['gone']);
    await second.store.close();
    const third = await open(dir.path);
    expect(third.store.journal.failures()).toEqual([]);
    expect(third.store.journal.replay()).toBe(1);
    await third.store.close();
  });

  test('a second gateway on the same directory is refused with the reason', async () => {
    const dir = tempDir('fluxgate-sqlite-');
    const first = await open(dir.path);
    await expect(open(dir.path)).rejects.toThrow(/is in use by another fluxgate \(waited 3 s\): each gateway needs its own state.path/);
    await first.store.close();
  });

  test('a file sqlite cannot read is moved aside, loudly, and a new one started; so is a truncated one', async () => {
    for (const damage of ['garbage', 'truncated'] as const) {
      const dir = tempDir('fluxgate-sqlite-');
      const first = await open(dir.path);
      for (let i = 0; i < 50; i += 1) await accept(first.store, `object-${i}`);
      await first.store.close();
      const file = join(dir.path, 'fluxgate.db');
      if (damage === 'garbage') writeFileSync(file, 'this is not a database file, not at all, not even close to one');
      else writeFileSync(file, readFileSync(file).subarray(0, 6000));
      const second = await open(dir.path);
      expect(second.movedAside()).toMatch(/fluxgate\.db\.corrupt-/);
      expect(existsSync(second.movedAside()!)).toBe(true);
      expect(second.log.lines.some((line) => line.level === 'error' && line.msg.startsWith('the state file could not be read and was moved aside'))).toBe(true);
      expect(await accept(second.store, 'after')).toMatchObject({ kind: 'accepted' });
      await second.store.close();
      expect(readdirSync(dir.path).filter((name) => name.includes('.corrupt-')).length).toBeGreaterThan(0);
    }
  });

  test('a file written by a newer fluxgate is refused, not misread', async () => {
    const dir = tempDir('fluxgate-sqlite-');
    await (await open(dir.path)).store.close();
    const db = new Database(join(dir.path, 'fluxgate.db'));
    db.exec('PRAGMA user_version = 99');
    db.close();
    await expect(open(dir.path)).rejects.toThrow(/written by a newer fluxgate \(schema 99/);
  });

  test('a full file (state.maxSize) answers unavailable, and takes writes again once there is room', async () => {
    const dir = tempDir('fluxgate-sqlite-');
    const clock = manualClock();
    const { store, fed } = await open(dir.path, { clock, overrides: { maxSize: '400KiB' } });
    let outcome;
    let accepted = 0;
    const big = 'x'.repeat(2000);
    for (let i = 0; i < 1000; i += 1) {
      outcome = await store.journal.accept({ provider: 'github', deliveryId: `d-${i}`, cause: { provider: 'github', repository: big }, selectors: [selector(`object-${i}`)] });
      if (outcome.kind !== 'accepted') break;
      accepted += 1;
    }
    expect(accepted).toBeGreaterThan(10);
    expect(outcome).toMatchObject({ kind: 'unavailable' });
    expect((outcome as { reason: string }).reason).toMatch(/^the state store cannot be written: .*full/);
    expect(store.journal.health().ok).toBe(false);
    // Patches settle what was owed: the rows go, and the store takes writes again.
    for (const item of fed) store.journal.settle(item.id, item.revision, { kind: 'done' });
    await store.journal.check();
    expect(store.journal.health()).toEqual({ ok: true });
    expect(await store.journal.accept({ provider: 'github', deliveryId: 'after', cause: { provider: 'github' }, selectors: [selector('after')] })).toMatchObject({ kind: 'accepted' });
    await store.close();
  });

  test('state.path: relative to the config file; systemd\'s STATE_DIRECTORY; else fluxgate-state beside the config', () => {
    expect(statePath(state({ path: 'data' }), '/etc/fluxgate', {})).toBe('/etc/fluxgate/data');
    expect(statePath(state({ path: '/srv/state' }), '/etc/fluxgate', { STATE_DIRECTORY: '/var/lib/fluxgate' })).toBe('/srv/state');
    expect(statePath(state(), '/etc/fluxgate', { STATE_DIRECTORY: '/var/lib/fluxgate:/var/lib/other' })).toBe('/var/lib/fluxgate');
    expect(statePath(state(), '/home/me/gitops', {})).toBe('/home/me/gitops/fluxgate-state');
  });
});
