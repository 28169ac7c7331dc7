/**
 * The journal on a real NATS JetStream server (Debian's nats-server, one node on loopback): a 202 only once the
 * stream has the delivery, a redelivery to any replica is a duplicate, the owner of an object's partition is handed
 * what it owes, settling by revision, label queries expanded, failures shared, the delivery log shared, a
 * delivery of 10,000 objects, a replica's death taken over within the lease, and NATS away → unavailable, then back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { StateConfig } from '../../src/config/schema.ts';
import { createDeliveryDeduper } from '../../src/store/dedupe.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createRequestedAtClock } from '../../src/core/kinds.ts';
import type { ObjectSelector } from '../../src/core/selector.ts';
import type { WorkItem } from '../../src/reconcile/work-item.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { memoryLogger } from '../support/memory-logger.ts';
import { quietJournalReporter } from '../support/journal.ts';
import { startNatsServers, type NatsServers } from '../support/nats-server.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { until } from '../support/until.ts';

let nats: NatsServers;
beforeAll(async () => {
  nats = await startNatsServers({ nodes: 1 });
}, 120_000);
afterAll(async () => {
  await nats?.stop();
});

const selector = (name: string | undefined, extra: Partial<ObjectSelector> = {}): ObjectSelector => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  namespace: 'flux-system',
  ...(name !== undefined ? { name } : { matchLabels: { app: 'web' } }),
  annotation: { key: 'reconcile.fluxcd.io/requestedAt' },
  key: `key-${name ?? 'query'}`,
  label: name ?? '{app=web}',
  ...extra,
});

let prefix = 0;
/** A fresh name per test: its own stream and buckets on the shared server. */
const freshName = () => `t${process.pid}x${(prefix += 1)}`;

interface Replica {
  store: Store;
  log: ReturnType<typeof memoryLogger>;
  fed: WorkItem[];
  errors: string[];
  owned: { partitions: number; items: number };
}

async function openReplica(name: string, options: { lease?: number; maxPending?: number; servers?: string[] } = {}): Promise<Replica> {
  const fed: WorkItem[] = [];
  const errors: string[] = [];
  const owned = { partitions: 0, items: 0 };
  const log = memoryLogger();
  const state = {
    store: 'nats',
    sync: 'full',
    maxSize: 256 * 1024 * 1024,
    retention: { maxAge: 7 * 86_400_000, failures: 1000 },
    nats: { servers: options.servers ?? nats.urls, name, replicas: 1, lease: options.lease ?? 1500 },
  } as StateConfig;
  const store = await openStore({
    state,
    configDir: '/nonexistent',
    env: {},
    clusters: [undefined],
    maxPending: options.maxPending ?? 100_000,
    recentDeliveries: 100,
    requestedAt: createRequestedAtClock(),
    clock: systemClock,
    log,
    reporter: { ...quietJournalReporter, committed: (_ms, _n, error) => void (error && errors.push(error)) },
    feed: (items) => void fed.push(...items),
    replica: { failed() {}, owned: (partitions, items) => Object.assign(owned, { partitions, items }), acquired() {} },
  });
  return { store, log, fed, errors, owned };
}

async function accept(replica: Replica, selectors: ObjectSelector[], deliveryId?: string) {
  return replica.store.journal.accept({ provider: 'github', ...(deliveryId ? { deliveryId } : {}), cause: { provider: 'github' }, selectors });
}

const fedNames = (replica: Replica) => replica.fed.map((item) => item.selector.name ?? item.selector.label);

describe('state.store: nats on one replica', () => {
  test('a delivery is accepted once JetStream has it (the ticket is its sequence) and handed to reconcile; a redelivery is a duplicate', async () => {
    const replica = await openReplica(freshName());
    try {
      expect(replica.store.journal.replay()).toBe(0);
      const first = await accept(replica, [selector('app')], 'd-1');
      expect(first).toMatchObject({ kind: 'accepted', ticket: { seq: 1 } });
      expect(await accept(replica, [selector('app')], 'd-1')).toEqual({ kind: 'duplicate' });
      await until(() => replica.fed.length === 1, 'the item handed to reconcile');
      expect(replica.fed[0]).toMatchObject({ selector: { name: 'app' }, tickets: [{ seq: 1 }] });
      expect(replica.fed[0]!.value).toBeString();
      expect(replica.store.journal.pending()).toBe(1);
      expect(replica.store.journal.health()).toEqual({ ok: true });
    } finally {
      await replica.store.close();
    }
  });

  test('settling by revision: a patch that started before a newer delivery settles nothing; the newer one is handed over with only its ticket', async () => {
    const replica = await openReplica(freshName());
    try {
      replica.store.journal.replay();
      await accept(replica, [selector('app')]);
      await until(() => replica.fed.length === 1, 'the first delivery handed over');
      const first = replica.fed[0]!;
      await accept(replica, [selector('app')]);
      await until(() => replica.fed.length === 2, 'the second delivery handed over');
      const second = replica.fed[1]!;
      expect(second.revision).toBeGreaterThan(first.revision);
      expect(second.tickets.map((ticket) => ticket.seq)).toEqual([2]);
      replica.store.journal.settle(first.id, first.revision, { kind: 'done' });
      // A round trip through NATS after it: had the stale settle deleted anything, the watcher would have seen it.
      await accept(replica, [selector('other', { key: 'other' })]);
      await until(() => fedNames(replica).includes('other'), 'a later delivery handed over');
      expect(replica.store.journal.pending()).toBe(2);
      replica.store.journal.settle(second.id, second.revision, { kind: 'done' });
      await until(() => replica.store.journal.pending() === 1, 'the item settled');
    } finally {
      await replica.store.close();
    }
  });

  test('a label query becomes items of its own, then is settled; a failure is kept, shown and retried', async () => {
    const replica = await openReplica(freshName());
    try {
      replica.store.journal.replay();
      await accept(replica, [selector(undefined)]);
      await until(() => replica.fed.length === 1, 'the query handed over');
      replica.store.journal.expand(replica.fed[0]!, ['web-1', 'web-2']);
      await until(() => fedNames(replica).includes('web-1') && fedNames(replica).includes('web-2') && replica.store.journal.pending() === 2, 'the named items handed over, the query settled');
      const web1 = replica.fed.find((item) => item.selector.name === 'web-1')!;
      replica.store.journal.settle(web1.id, web1.revision, { kind: 'failed', outcome: 'not_found', error: '404', attempts: 1 });
      await until(() => replica.store.journal.failures().length === 1 && replica.store.journal.pending() === 1, 'the failure kept');
      expect(replica.store.journal.failures()[0]).toMatchObject({ outcome: 'not_found', item: { selector: { name: 'web-1' } } });
      expect(replica.store.journal.retry()).toBe(1);
      await until(() => replica.store.journal.failures().length === 0 && replica.fed.filter((item) => item.selector.name === 'web-1').length === 2, 'the failure owed again');
    } finally {
      await replica.store.close();
    }
  });

  test('a delivery of 10,000 objects is kept (in several messages under one ticket) and every object is owed', async () => {
    const replica = await openReplica(freshName());
    try {
      replica.store.journal.replay();
      const selectors = Array.from({ length: 10_000 }, (_, i) => selector(`app-${i}`, { key: `key-app-${i}` }));
      const outcome = await accept(replica, selectors, 'big');
      expect(outcome.kind).toBe('accepted');
      await until(() => replica.store.journal.pending() === 10_000 && replica.fed.length === 10_000, 'every object owed', 120_000).catch((error) => {
        throw new Error(`${error.message}: pending ${replica.store.journal.pending()}, fed ${replica.fed.length}`);
      });
      const ticket = (outcome as { ticket: { seq: number } }).ticket.seq;
      expect(new Set(replica.fed.map((item) => item.tickets[0]!.seq))).toEqual(new Set([ticket]));
    } finally {
      await replica.store.close();
    }
  }, 180_000);
});

describe('state.store: nats with several replicas', () => {
  test('a delivery id taken by one replica is a duplicate at another; each object is handed to one replica; the delivery log is shared', async () => {
    const name = freshName();
    const a = await openReplica(name);
    const b = await openReplica(name);
    try {
      a.store.journal.replay();
      b.store.journal.replay();
      // Both replicas know each other before the deliveries: every partition has settled on its one owner.
      await until(() => a.owned.partitions + b.owned.partitions >= 34 && a.owned.partitions > 1 && b.owned.partitions > 1, 'the partitions shared', 30_000);
      expect((await accept(a, [selector('one')], 'shared-1')).kind).toBe('accepted');
      expect(await accept(b, [selector('one')], 'shared-1')).toEqual({ kind: 'duplicate' });
      const names = Array.from({ length: 40 }, (_, i) => `obj-${i}`);
      for (const [i, object] of names.entries()) expect((await accept(i % 2 ? a : b, [selector(object, { key: object })])).kind).toBe('accepted');
      await until(() => a.fed.length + b.fed.length === 41, 'every object handed over');
      const fedBoth = [...fedNames(a), ...fedNames(b)].sort();
      expect(fedBoth).toEqual(['one', ...names].sort());
      expect(a.fed.length).toBeGreaterThan(0);
      expect(b.fed.length).toBeGreaterThan(0);

      a.store.deliveries.add({ ticket: 1, deliveryId: 'shared-1', provider: 'github', type: 'github', receivedAt: new Date().toISOString(), status: 202, outcome: 'accepted', targets: ['one'] });
      b.store.deliveries.effect(1, { object: 'GitRepository flux-system/one', state: 'patched', attempts: 1 });
      await until(() => b.store.deliveries.find('shared-1')?.state === 'patched' && a.store.deliveries.find('shared-1')?.state === 'patched', 'the record and its effect on both replicas').catch((error) => {
        throw new Error(`${error.message}: ${JSON.stringify(b.store.deliveries.recent().filter((r) => r.ticket === 1))}`);
      });
    } finally {
      await Promise.all([a.store.close(), b.store.close()]);
    }
  });

  test('a replica cut off from NATS has its partitions taken over within the lease: what it owed is handed to another, a filtered item without its filter', async () => {
    const name = freshName();
    // a reaches NATS through a proxy that can cut it off, as a replica that died looks to the others.
    const [host, port] = nats.urls[0]!.slice('nats://'.length).split(':') as [string, string];
    const link = await startTcpProxy([{ host, port: Number(port) }]);
    const a = await openReplica(name, { servers: [`nats://${link.address}`] });
    try {
      a.store.journal.replay();
      // Alone: a owns every partition; what it accepts is owed there, the filtered item in its own.
      await accept(a, [selector('x'), selector('y', { key: 'y' }), selector(undefined, { key: 'filtered', filter: { accepts: async (objects) => objects.map(() => true) } })]);
      await until(() => a.fed.length === 3, 'handed to a');
      expect(a.fed.find((item) => item.filtered)?.selector.filter).toBeDefined();
      const b = await openReplica(name);
      try {
        b.store.journal.replay();
        await link.down();
        await until(() => fedNames(b).includes('x') && fedNames(b).includes('y') && b.fed.some((item) => item.filtered), 'b took over what a owed', 30_000);
        const filtered = b.fed.find((item) => item.filtered)!;
        expect(filtered.selector.filter).toBeUndefined();
        expect(b.owned.partitions).toBeGreaterThanOrEqual(33);
      } finally {
        await b.store.close();
      }
    } finally {
      await link.up();
      await a.store.close().catch(() => undefined);
      await link.stop();
    }
  }, 60_000);
});

describe('secrets', () => {
  test('a password in a server URL never reaches the log or the status page', async () => {
    const replica = await openReplica(freshName(), { servers: nats.urls.map((url) => url.replace('nats://', 'nats://fluxgate:hunter2-secret@')) });
    try {
      expect(replica.store.describe).toContain('nats://***@127.0.0.1:');
      expect(replica.store.describe).not.toContain('hunter2');
      expect(JSON.stringify(replica.log.lines)).not.toContain('hunter2');
      expect(replica.log.lines.find((line) => line.msg === 'state')).toMatchObject({ servers: [expect.stringContaining('***@')] });
    } finally {
      await replica.store.close();
    }
  });
});

describe('NATS away', () => {
  test('no server: unavailable (503) at once, health not ok, the error reported; back: accepted again', async () => {
    const own = await startNatsServers({ nodes: 1 });
    const replica = await openReplica(freshName(), { servers: own.urls });
    try {
      replica.store.journal.replay();
      expect((await accept(replica, [selector('a')], 'before')).kind).toBe('accepted');
      await own.nodes[0]!.kill();
      await until(() => !replica.store.journal.health().ok, 'health not ok');
      const refused = await accept(replica, [selector('a')], 'during');
      expect(refused.kind).toBe('unavailable');
      expect(replica.errors.length).toBeGreaterThan(0);
      await own.nodes[0]!.start();
      await until(() => replica.store.journal.health().ok, 'health ok again', 30_000);
      // The refused delivery id was forgotten: the provider's retry is taken.
      expect((await accept(replica, [selector('a')], 'during')).kind).toBe('accepted');
    } finally {
      await replica.store.close();
      await own.stop();
    }
  }, 60_000);
});
