/**
 * The journal: a delivery split into items per cluster, room per cluster, delivery ids, settling by revision,
 * label queries expanded, failures kept and retried, and — with a writer — answers that wait for the commit, one
 * commit for a burst, and nothing accepted when the write fails.
 */
import { describe, expect, test } from 'bun:test';
import type { ObjectSelector } from '../../src/core/selector.ts';
import type { Ticket } from '../../src/core/ticket.ts';
import type { WorkItem } from '../../src/reconcile/work-item.ts';
import type { JournalChanges } from '../../src/store/journal.ts';
import { acceptAll, acceptNow, testJournal } from '../support/journal.ts';
import { manualClock } from '../support/manual-clock.ts';

const selector = (name: string | undefined, clusters?: string[], key = `key-${name}`): ObjectSelector => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  namespace: 'flux-system',
  ...(name !== undefined ? { name } : { matchLabels: { app: 'web' } }),
  annotation: { key: 'reconcile.fluxcd.io/requestedAt' },
  key,
  label: name ?? '{app=web}',
  ...(clusters ? { clusters } : {}),
});

function harness(options: { clusters?: (string | undefined)[]; maxPending?: number; write?: (changes: JournalChanges) => void } = {}) {
  const clock = manualClock();
  const fed: WorkItem[] = [];
  const refused: string[] = [];
  const deferred: (() => void)[] = [];
  const journal = testJournal({
    clock,
    feed: (items) => void fed.push(...items),
    ...(options.clusters ? { clusters: options.clusters } : {}),
    ...(options.maxPending !== undefined ? { maxPending: options.maxPending } : {}),
    refused: (cluster, _ticket, selectors) => void refused.push(`${cluster}: ${selectors.map((s) => s.label).join(',')}`),
    ...(options.write ? { writer: { write: options.write }, defer: (run: () => void) => void deferred.push(run) } : {}),
  });
  const commit = () => deferred.splice(0).forEach((run) => run());
  return { clock, journal, fed, refused, commit };
}

describe('splitting a delivery by cluster', () => {
  test('a selector without clusters goes to every cluster, one naming clusters only to them; each object once per cluster', () => {
    const h = harness({ clusters: ['eu', 'us'] });
    acceptNow(h.journal, [selector('everywhere'), selector('only-us', ['us']), selector('everywhere', ['eu'], 'discovered'), selector('unknown-cluster', ['mars'])]);
    expect(h.fed.map((item) => `${item.cluster}:${item.selector.label}`)).toEqual(['eu:everywhere', 'us:everywhere', 'us:only-us']);
    expect(h.journal.pending()).toBe(3);
  });

  test('full (503) only when no cluster it concerns has room; a full cluster of an accepted delivery is reported, the others go on', () => {
    const h = harness({ clusters: ['full', 'free'], maxPending: 1 });
    acceptNow(h.journal, [selector('a', ['full'])]);
    expect(h.journal.accept({ provider: 'p', cause: { provider: 'p' }, selectors: [selector('b', ['full'])] })).toEqual({ kind: 'full' });
    acceptNow(h.journal, [selector('b')]);
    expect(h.refused).toEqual(['full: b']);
    expect(h.fed.map((item) => `${item.cluster}:${item.selector.label}`)).toEqual(['full:a', 'free:b']);
  });

  test('room counts objects: one already owed adds nothing, and an empty cluster takes any one delivery', () => {
    const h = harness({ maxPending: 3 });
    acceptNow(h.journal, [selector('a'), selector('b'), selector('c'), selector('d')]); // empty: taken whole
    expect(h.journal.accept({ provider: 'p', cause: { provider: 'p' }, selectors: [selector('e')] })).toEqual({ kind: 'full' });
    acceptNow(h.journal, [selector('a')]); // joins what is owed
    expect(h.journal.pending()).toBe(4);
  });
});

describe('delivery ids', () => {
  test('a delivery id accepted before is a duplicate; a refused one is forgotten so the retry is taken', () => {
    const h = harness({ maxPending: 1 });
    acceptNow(h.journal, [selector('a'), selector('b')]);
    const delivery = { provider: 'github', deliveryId: 'd-1', cause: { provider: 'github' }, selectors: [selector('c')] };
    expect(h.journal.accept(delivery)).toEqual({ kind: 'full' });
    h.journal.settle(h.fed[0]!.id, h.fed[0]!.revision, { kind: 'done' });
    h.journal.settle(h.fed[1]!.id, h.fed[1]!.revision, { kind: 'done' });
    expect((h.journal.accept(delivery) as { kind: string }).kind).toBe('accepted');
    expect(h.journal.accept(delivery)).toEqual({ kind: 'duplicate' });
    expect(h.journal.accept({ ...delivery, provider: 'gitlab' })).toMatchObject({ kind: 'accepted' });
  });
});

describe('settling', () => {
  test('a patch that started with an older revision leaves the item owed', () => {
    const h = harness();
    acceptNow(h.journal, [selector('a')]);
    const first = h.fed[0]!;
    acceptNow(h.journal, [selector('a')]);
    h.journal.settle(first.id, first.revision, { kind: 'done' });
    expect(h.journal.pending()).toBe(1);
    h.journal.settle(first.id, h.fed[1]!.revision, { kind: 'done' });
    expect(h.journal.pending()).toBe(0);
  });

  test('a label query becomes an item per object, and the query is settled', () => {
    const h = harness();
    acceptNow(h.journal, [selector(undefined)]);
    const query = h.fed[0]!;
    h.journal.expand(query, ['web-a', 'web-b']);
    expect(h.fed.slice(1).map((item) => item.selector.name)).toEqual(['web-a', 'web-b']);
    expect(h.fed[1]!.tickets).toEqual(query.tickets);
    expect(h.journal.pending()).toBe(2);
  });

  test('failures are kept (the oldest go first) and retried with a new ticket and value', async () => {
    const h = harness({ write: () => {} });
    const accepted = acceptAll(h.journal, [selector('a'), selector('b')]);
    h.commit();
    const ticket: Ticket = await accepted;
    const [a] = h.fed;
    h.journal.settle(a!.id, a!.revision, { kind: 'failed', outcome: 'forbidden', error: 'patch forbidden', attempts: 1 });
    expect(h.journal.failures()).toMatchObject([{ outcome: 'forbidden', error: 'patch forbidden', item: { id: a!.id } }]);
    expect(h.journal.retry()).toBe(1);
    const again = h.fed.at(-1)!;
    expect(again.selector.name).toBe('a');
    expect(again.revision).toBeGreaterThan(ticket.seq);
    expect(again.value).not.toBe(a!.value);
    expect(h.journal.failures()).toEqual([]);
  });
});

describe('with a writer (a durable store)', () => {
  test('the answer waits for the commit; deliveries of one moment share one commit; the value is minted at acceptance', async () => {
    const commits: JournalChanges[] = [];
    const h = harness({ write: (changes) => void commits.push(structuredClone({ ...changes, items: [...changes.items] }) as never) });
    let answered = 0;
    const answers = [1, 2, 3].map((n) => (h.journal.accept({ provider: 'github', deliveryId: `d-${n}`, cause: { provider: 'github' }, selectors: [selector(`app-${n}`)] }) as Promise<unknown>).then((outcome) => ((answered += 1), outcome)));
    await Promise.resolve();
    expect(answered).toBe(0);
    expect(h.fed).toEqual([]); // nothing reaches reconcile before it is written
    h.commit();
    expect(await Promise.all(answers)).toMatchObject([{ kind: 'accepted' }, { kind: 'accepted' }, { kind: 'accepted' }]);
    expect(commits).toHaveLength(1);
    const written = commits[0] as unknown as { items: [string, WorkItem][]; seen: unknown[] };
    expect(written.items.map(([, item]) => item.selector.name)).toEqual(['app-1', 'app-2', 'app-3']);
    expect(written.seen).toHaveLength(3);
    expect(h.fed.every((item) => typeof item.value === 'string')).toBe(true);
  });

  test('a failed write accepts nothing: the answer is unavailable, nothing is fed, and the retry is not a duplicate', async () => {
    let failing = true;
    const h = harness({
      write: () => {
        if (failing) throw new Error('disk I/O error');
      },
    });
    const delivery = { provider: 'github', deliveryId: 'd-1', cause: { provider: 'github' }, selectors: [selector('a')] };
    const first = h.journal.accept(delivery) as Promise<unknown>;
    h.commit();
    expect(await first).toEqual({ kind: 'unavailable', reason: 'the state store cannot be written: disk I/O error' });
    expect(h.fed).toEqual([]);
    expect(h.journal.pending()).toBe(0);
    expect(h.journal.health()).toEqual({ ok: false, error: 'disk I/O error' });
    failing = false;
    const second = h.journal.accept(delivery) as Promise<unknown>;
    h.commit();
    expect(await second).toMatchObject({ kind: 'accepted' });
    expect(h.journal.health()).toEqual({ ok: true });
  });

  test('read back at start: items are replayed, delivery ids still count, items of a cluster no longer configured become failures', () => {
    const clock = manualClock();
    const item = (cluster: string | undefined, name: string): WorkItem => ({ id: `${cluster}|${name}`, ...(cluster ? { cluster } : {}), selector: selector(name), revision: 4, value: 'v', tickets: [], untracked: 0, since: clock.now() });
    const fed: WorkItem[] = [];
    const journal = testJournal({
      clock,
      clusters: ['eu'],
      feed: (items) => void fed.push(...items),
      writer: { write() {} },
      initial: { items: [item('eu', 'a'), item('gone', 'b')], failures: [], seen: [{ provider: 'github', deliveryId: 'd-1', at: clock.now() }], nextSeq: 5 },
    });
    expect(journal.replay()).toBe(1);
    expect(fed.map((i) => i.selector.name)).toEqual(['a']);
    expect(journal.failures().map((failure) => [failure.item.selector.name, failure.error])).toEqual([['b', 'cluster gone is no longer configured']]);
    expect(journal.accept({ provider: 'github', deliveryId: 'd-1', cause: { provider: 'github' }, selectors: [selector('a')] })).toEqual({ kind: 'duplicate' });
  });
});

describe('with a writer that answers later (sqlite syncing its log, NATS)', () => {
  /** A writer whose commits the test ends one by one. */
  function laterWriter() {
    const commits: { changes: JournalChanges; end(error?: Error): void }[] = [];
    return {
      commits,
      writer: {
        write: (changes: JournalChanges) =>
          new Promise<void>((resolve, reject) => {
            commits.push({ changes: { ...changes, items: new Map(changes.items) }, end: (error) => (error ? reject(error) : resolve()) });
          }),
      },
    };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  test('one commit in flight: what arrives meanwhile shares the next one, which starts when it ends', async () => {
    const later = laterWriter();
    const clock = manualClock();
    const fed: WorkItem[] = [];
    const journal = testJournal({ clock, feed: (items) => void fed.push(...items), writer: later.writer });
    const first = journal.accept({ provider: 'p', deliveryId: 'a', cause: { provider: 'p' }, selectors: [selector('a')] }) as Promise<unknown>;
    await tick();
    expect(later.commits).toHaveLength(1);
    const second = journal.accept({ provider: 'p', deliveryId: 'b', cause: { provider: 'p' }, selectors: [selector('b')] }) as Promise<unknown>;
    const third = journal.accept({ provider: 'p', deliveryId: 'c', cause: { provider: 'p' }, selectors: [selector('c')] }) as Promise<unknown>;
    await tick();
    expect(later.commits).toHaveLength(1); // b and c wait for a's commit
    later.commits[0]!.end();
    expect(await first).toMatchObject({ kind: 'accepted' });
    await tick();
    expect(later.commits).toHaveLength(2);
    expect([...later.commits[1]!.changes.items.keys()].map((id) => id.split('|')[3])).toEqual(['b', 'c']);
    later.commits[1]!.end();
    expect(await Promise.all([second, third])).toMatchObject([{ kind: 'accepted' }, { kind: 'accepted' }]);
    expect(fed.map((item) => item.selector.name)).toEqual(['a', 'b', 'c']);
  });

  test('a settle while a commit is in flight is written by the next commit, not lost when the first ends', async () => {
    const later = laterWriter();
    const clock = manualClock();
    const fed: WorkItem[] = [];
    const journal = testJournal({ clock, feed: (items) => void fed.push(...items), writer: later.writer });
    const accepted = journal.accept({ provider: 'p', cause: { provider: 'p' }, selectors: [selector('a')] }) as Promise<unknown>;
    await tick();
    later.commits[0]!.end();
    await accepted;
    journal.settle(fed[0]!.id, fed[0]!.revision, { kind: 'done' }); // the settle of a
    const flushed = journal.flush();
    await tick();
    expect(later.commits).toHaveLength(2);
    expect(later.commits[1]!.changes.items.get(fed[0]!.id)).toBeNull();
    // While that commit is in flight, b is accepted: it goes in the next one; a's settle is not written twice.
    const b = journal.accept({ provider: 'p', cause: { provider: 'p' }, selectors: [selector('b')] }) as Promise<unknown>;
    later.commits[1]!.end();
    await flushed;
    await tick();
    expect(later.commits).toHaveLength(3);
    expect([...later.commits[2]!.changes.items.keys()]).toEqual([expect.stringContaining('|b|')]);
    later.commits[2]!.end();
    await b;
  });

  test('a commit that fails keeps its changes for the next one', async () => {
    const later = laterWriter();
    const clock = manualClock();
    const fed: WorkItem[] = [];
    const journal = testJournal({ clock, feed: (items) => void fed.push(...items), writer: later.writer });
    const accepted = journal.accept({ provider: 'p', cause: { provider: 'p' }, selectors: [selector('a')] }) as Promise<unknown>;
    await tick();
    later.commits[0]!.end();
    await accepted;
    journal.settle(fed[0]!.id, fed[0]!.revision, { kind: 'failed', outcome: 'not_found', error: '404', attempts: 1 });
    const first = journal.flush();
    await tick();
    later.commits[1]!.end(new Error('disk I/O error'));
    await first;
    expect(journal.health()).toEqual({ ok: false, error: 'disk I/O error' });
    await tick();
    expect(later.commits).toHaveLength(2); // no loop of failing commits: the next delivery or the check tries again
    const again = journal.check();
    await tick();
    expect(later.commits[2]!.changes.items.get(fed[0]!.id)).toBeNull();
    expect(later.commits[2]!.changes.failures.size).toBe(1);
    later.commits[2]!.end();
    await again;
    expect(journal.health()).toEqual({ ok: true });
  });
});
