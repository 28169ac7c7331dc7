/**
 * The informer's protocol against an in-memory API (test/support/fake-watch-api.ts) on a manual clock: list and
 * watch, resuming, 410s, backoff, absent kinds, bounded lines, namespaces, and a stop() that leaves nothing.
 * The same behaviour against the real kube-apiserver and the fault proxy: informer-real-apiserver.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import { KubeError } from '../../src/kube/client.ts';
import { createInformer, type InformerOptions, type WatchedObject, type WatchState } from '../../src/kube/informer.ts';
import { fakeWatchApi, type FakeWatchApi } from '../support/fake-watch-api.ts';
import { manualClock, settle, type ManualClock } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const GIT = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', plural: 'gitrepositories' };

function gitRepository(namespace: string, name: string, branch = 'main') {
  return { metadata: { name, namespace, uid: `uid-${namespace}-${name}`, labels: { team: 'a' } }, spec: { url: `https://github.com/org/${name}`, ref: { branch } }, status: { ready: true } };
}

/** An informer on a fake API; `objects` mirrors what onSync/onChange said, as a consumer's index would. */
function harness(extra: Partial<InformerOptions> = {}, api: FakeWatchApi = fakeWatchApi(GIT)) {
  const clock = manualClock();
  const log = memoryLogger();
  const objects = new Map<string, WatchedObject>();
  const syncs: number[] = [];
  const changes: string[] = [];
  const states: WatchState[] = [];
  const key = (object: WatchedObject) => `${object.metadata.namespace}/${object.metadata.name}`;
  const informer = createInformer({
    api,
    apiVersion: GIT.apiVersion,
    kind: GIT.kind,
    clock,
    log,
    random: () => 0.5,
    onSync(all) {
      syncs.push(all.length);
      objects.clear();
      for (const object of all) objects.set(key(object), object);
    },
    onChange({ type, object }) {
      changes.push(`${type} ${key(object)}`);
      if (type === 'delete') objects.delete(key(object));
      else objects.set(key(object), object);
    },
    onState: (state) => states.push(state),
    ...extra,
  });
  return { api, clock, log, informer, objects, syncs, changes, states };
}

const watches = (api: FakeWatchApi) => api.streams.map((stream) => stream.query);
const branchOf = (object: WatchedObject | undefined) => object?.spec?.ref?.branch;

/** Stops the informer and checks it left no stream open and no timer pending. */
async function stopsCleanly(h: { informer: ReturnType<typeof createInformer>; api: FakeWatchApi; clock: ManualClock }) {
  await h.informer.stop();
  expect(h.informer.state()).toBe('stopped');
  expect(h.api.openStreams()).toBe(0);
  expect(h.clock.timers()).toBe(0);
  await h.informer.stop(); // idempotent
}

describe('list, then watch', () => {
  test('lists, hands over the set, then watches from the list resourceVersion with bookmarks and a server timeout', async () => {
    const h = harness({ watchTimeoutSeconds: 120, fieldSelector: 'metadata.name!=skip', labelSelector: 'team=a' });
    h.api.put(gitRepository('ns-a', 'one'));
    h.api.put(gitRepository('ns-b', 'two'));
    const listedAt = h.api.resourceVersion();
    h.informer.start();
    await settle();
    expect(h.informer.state()).toBe('watching');
    expect(h.informer.problem()).toBeUndefined();
    expect(h.syncs).toEqual([2]);
    expect(h.states).toEqual(['starting', 'listing', 'watching']);
    const list = new URLSearchParams(h.api.lists[0]!.split('?')[1]);
    expect(Object.fromEntries(list)).toEqual({ limit: '500', fieldSelector: 'metadata.name!=skip', labelSelector: 'team=a' });
    expect(Object.fromEntries(watches(h.api)[0]!)).toEqual({
      watch: '1', allowWatchBookmarks: 'true', resourceVersion: String(listedAt), timeoutSeconds: '120', fieldSelector: 'metadata.name!=skip', labelSelector: 'team=a',
    });
    // What is kept: identity, labels, spec, status; not managedFields. List items get the watched apiVersion/kind.
    expect(h.objects.get('ns-a/one')).toEqual({
      apiVersion: GIT.apiVersion, kind: GIT.kind,
      metadata: { name: 'one', namespace: 'ns-a', uid: 'uid-ns-a-one', resourceVersion: String(listedAt - 1), labels: { team: 'a' } },
      spec: { url: 'https://github.com/org/one', ref: { branch: 'main' } }, status: { ready: true },
    });

    h.api.put(gitRepository('ns-a', 'three'));
    h.api.put(gitRepository('ns-a', 'one', 'dev'));
    h.api.remove('ns-b', 'two');
    await settle();
    expect(h.changes).toEqual(['upsert ns-a/three', 'upsert ns-a/one', 'delete ns-b/two']);
    expect([...h.objects.keys()].sort()).toEqual(['ns-a/one', 'ns-a/three']);
    expect(branchOf(h.objects.get('ns-a/one'))).toBe('dev');
    expect(h.api.lists).toHaveLength(1);
    await stopsCleanly(h);
  });

  test('lists page by page (limit/continue) and syncs once with every page', async () => {
    const h = harness({ pageSize: 2 });
    for (let i = 0; i < 5; i++) h.api.put(gitRepository('ns', `repo-${i}`));
    h.informer.start();
    await settle();
    expect(h.api.lists.map((path) => new URLSearchParams(path.split('?')[1]).get('continue'))).toEqual([null, '1:2', '2:4']);
    expect(h.syncs).toEqual([5]);
    expect(h.objects.size).toBe(5);
    await stopsCleanly(h);
  });
});

describe('resuming', () => {
  test('a watch the server ends is resumed from the last resourceVersion: changes in between are not missed, no re-list', async () => {
    const h = harness();
    h.api.put(gitRepository('ns', 'app'));
    h.informer.start();
    await settle();
    h.api.put(gitRepository('ns', 'app', 'dev'));
    await settle();
    const seen = h.api.resourceVersion();
    h.api.streams[0]!.cut();
    // While nobody watches: a change and a new object.
    h.api.put(gitRepository('ns', 'app', 'release'));
    h.api.put(gitRepository('ns', 'new'));
    await settle();
    expect(watches(h.api)[1]!.get('resourceVersion')).toBe(String(seen));
    expect(branchOf(h.objects.get('ns/app'))).toBe('release');
    expect(h.objects.has('ns/new')).toBe(true);
    expect(h.api.lists).toHaveLength(1);
    expect(h.syncs).toEqual([1]);
    await stopsCleanly(h);
  });

  test('a bookmark moves the resourceVersion the next watch starts from', async () => {
    const h = harness();
    h.informer.start();
    await settle();
    h.api.put(gitRepository('other-kind-noise', 'x'));
    await settle();
    h.api.bookmark();
    await settle();
    const bookmarked = h.api.resourceVersion();
    h.api.streams[0]!.cut();
    await settle();
    expect(watches(h.api)[1]!.get('resourceVersion')).toBe(String(bookmarked));
    await stopsCleanly(h);
  });

  test('an ERROR event with code 410 (history compacted) re-lists at once: the set is replaced, nothing is missed', async () => {
    const h = harness();
    h.api.put(gitRepository('ns', 'kept'));
    h.api.put(gitRepository('ns', 'deleted-while-away'));
    h.informer.start();
    await settle();
    h.api.put(gitRepository('ns', 'kept', 'dev'));
    await settle();
    h.api.streams[0]!.cut();
    h.api.remove('ns', 'deleted-while-away');
    h.api.put(gitRepository('ns', 'created-while-away'));
    h.api.compact(); // the changes above are no longer in the history: only a list shows them
    await settle();
    expect(h.api.lists).toHaveLength(2);
    expect(h.syncs).toEqual([2, 2]);
    expect([...h.objects.keys()].sort()).toEqual(['ns/created-while-away', 'ns/kept']);
    expect(h.informer.state()).toBe('watching');
    expect(h.log.lines.find((line) => line.msg === 'watch expired, listing again')).toMatchObject({ watch: 'GitRepository in all namespaces' });
    await stopsCleanly(h);
  });

  test('an HTTP 410 on the watch, and an expired continue token, re-list from scratch', async () => {
    const h = harness({ pageSize: 1 });
    h.api.put(gitRepository('ns', 'a'));
    h.api.put(gitRepository('ns', 'b'));
    h.api.failNext('watch', [new KubeError('answered 410 Gone', 'http', 410)]);
    h.informer.start();
    await settle();
    // list (2 pages) → watch 410 → list again (2 pages), at once
    expect(h.api.lists).toHaveLength(4);
    expect(h.syncs).toEqual([2, 2]);
    expect(h.informer.state()).toBe('watching');
    await stopsCleanly(h);

    // The second page's continue token has expired: the list starts over, without a token, at once.
    const expired = harness({ pageSize: 1 });
    expired.api.put(gitRepository('ns', 'a'));
    expired.api.put(gitRepository('ns', 'b'));
    expired.api.failNext('list', [null, new KubeError('answered 410 Expired: continue token expired', 'http', 410)]);
    expired.informer.start();
    await settle();
    expect(expired.api.lists.map((path) => new URLSearchParams(path.split('?')[1]).get('continue'))).toEqual([null, '1:1', null, '2:1']);
    expect(expired.syncs).toEqual([2]);
    expect(expired.informer.state()).toBe('watching');
    await stopsCleanly(expired);
  });

  test('a 410 that keeps coming back is not a tight loop: after the first re-list, re-lists wait out a backoff', async () => {
    const h = harness();
    h.api.failNext('watch', [410, 410, 410].map(() => new KubeError('Gone', 'http', 410)));
    h.informer.start();
    await settle();
    expect(h.api.lists).toHaveLength(2); // the first re-list is immediate
    await h.clock.advance(374);
    expect(h.api.lists).toHaveLength(2);
    await h.clock.advance(1); // 500 ms, equal jitter at 0.5 → 375 ms
    expect(h.api.lists).toHaveLength(3);
    await h.clock.advance(750);
    expect(h.api.lists).toHaveLength(4);
    expect(h.informer.state()).toBe('watching');
    await stopsCleanly(h);
  });
});

describe('failures', () => {
  test('reconnects with capped exponential backoff and jitter on the clock; Retry-After is a floor; a delivered watch resets it', async () => {
    const h = harness({ backoff: { initialMs: 1000, maxMs: 4000 } });
    h.api.failNext('watch', [
      new KubeError('cannot reach https://fake.invalid: ECONNREFUSED', 'connection'),
      new KubeError('answered 503', 'http', 503),
      new KubeError('answered 503', 'http', 503),
      new KubeError('answered 503', 'http', 503),
      new KubeError('answered 429', 'http', 429, 9000),
    ]);
    h.informer.start();
    await settle();
    expect(h.informer.state()).toBe('backing-off');
    expect(h.informer.problem()).toBe('cannot reach https://fake.invalid: ECONNREFUSED');
    const retries = h.log.lines.filter((line) => line.msg === 'watch failed, retrying');
    expect(retries.map((line) => line.retryInMs)).toEqual([750]);
    for (const step of [750, 1500, 3000, 3000]) await h.clock.advance(step);
    // 1 s, 2 s, 4 s, then capped at 4 s; equal jitter at random 0.5 → 3/4 of each; the 429's Retry-After 9 s wins.
    expect(h.log.lines.filter((line) => line.msg === 'watch failed, retrying').map((line) => line.retryInMs)).toEqual([750, 1500, 3000, 3000, 9000]);
    expect(h.api.streams).toHaveLength(0);
    await h.clock.advance(8999);
    expect(h.api.streams).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.api.streams).toHaveLength(1);
    expect(h.informer.state()).toBe('watching');
    expect(h.informer.problem()).toBeUndefined();
    expect(h.api.lists).toHaveLength(1); // resumed, never re-listed
    // After a watch that delivered something, the next failure starts from the initial delay again, even when
    // that watch itself ends in a broken connection.
    h.api.put(gitRepository('ns', 'x'));
    await settle();
    h.api.failNext('watch', [new KubeError('answered 503', 'http', 503), new KubeError('answered 503', 'http', 503)]);
    h.api.streams[0]!.cut();
    await settle();
    await h.clock.advance(750);
    expect(h.log.lines.filter((line) => line.msg === 'watch failed, retrying').map((line) => line.retryInMs).slice(5)).toEqual([750, 1500]);
    await h.clock.advance(1500);
    h.api.put(gitRepository('ns', 'y'));
    await settle();
    h.api.streams[1]!.fail(new TypeError('socket closed'));
    await settle();
    expect(h.log.lines.filter((line) => line.msg === 'watch failed, retrying').at(-1)).toMatchObject({ error: 'socket closed', retryInMs: 750 });
    await stopsCleanly(h);
  });

  test('a watch that ends at once without a single event counts as a failure: backoff, not a tight loop', async () => {
    const h = harness();
    h.informer.start();
    await settle();
    h.api.streams[0]!.cut();
    await settle();
    expect(h.api.streams).toHaveLength(1);
    expect(h.informer.state()).toBe('backing-off');
    await h.clock.advance(375);
    expect(h.api.streams).toHaveLength(2);
    expect(h.informer.state()).toBe('watching');
    await stopsCleanly(h);
  });

  test('a watch line larger than maxLineBytes is an error: the stream is cancelled, nothing is buffered beyond the cap', async () => {
    const h = harness({ maxLineBytes: 1024 });
    h.informer.start();
    await settle();
    const stream = h.api.streams[0]!;
    for (let i = 0; i < 4; i++) stream.send('x'.repeat(300)); // 1200 characters and still no newline
    await settle();
    expect(stream.open).toBe(false);
    expect(h.informer.state()).toBe('backing-off');
    expect(h.informer.problem()).toBe('a watch event is larger than 1 KiB: refused');
    // A line that is not JSON is refused too (and the watch resumed after the backoff).
    await h.clock.advance(375);
    h.api.streams[1]!.send('<html>proxy error</html>\n');
    await settle();
    expect(h.informer.problem()).toBe('a watch line is not JSON (is it a Kubernetes API server?)');
    await stopsCleanly(h);
  });

  test('an event split across chunks, and several events in one chunk, are read whole', async () => {
    const h = harness();
    h.informer.start();
    await settle();
    const stream = h.api.streams[0]!;
    const event = (name: string, rv: number) => JSON.stringify({ type: 'ADDED', object: { metadata: { name, namespace: 'ns', resourceVersion: String(rv) }, spec: { url: 'ü' } } });
    const one = `${event('one', 900)}\n`;
    stream.send(one.slice(0, 10));
    stream.send(one.slice(10, 40));
    stream.send(`${one.slice(40)}${event('two', 901)}\n${event('three', 902)}\n`);
    await settle();
    expect(h.changes).toEqual(['upsert ns/one', 'upsert ns/two', 'upsert ns/three']);
    expect(h.objects.get('ns/one')!.spec.url).toBe('ü');
    await stopsCleanly(h);
  });
});

describe('a kind whose CRD is absent', () => {
  test('is skipped with one log line, re-checked on the clock (forgetting discovery), and watched once it appears', async () => {
    const api = fakeWatchApi(GIT);
    api.served = false;
    const h = harness({ kindRecheckMs: 60_000 }, api);
    h.informer.start();
    await settle();
    expect(h.informer.state()).toBe('kind-absent');
    expect(h.informer.problem()).toBe(`${GIT.apiVersion} is not served by https://fake.invalid (is its CRD installed?)`);
    for (let i = 0; i < 3; i++) await h.clock.advance(60_000);
    expect(h.api.forgotten).toEqual([GIT.apiVersion, GIT.apiVersion, GIT.apiVersion]);
    expect(h.log.lines.filter((line) => line.msg.startsWith('kind not served'))).toHaveLength(1);
    expect(h.syncs).toEqual([]);

    api.served = true;
    api.put(gitRepository('ns', 'app'));
    await h.clock.advance(59_999);
    expect(h.informer.state()).toBe('kind-absent');
    await h.clock.advance(1);
    expect(h.informer.state()).toBe('watching');
    expect(h.syncs).toEqual([1]);
    expect(h.log.lines.filter((line) => line.msg === 'kind is served now: watching it')).toHaveLength(1);
    await stopsCleanly(h);
  });

  test('a CRD deleted while watched: its objects are gone (an empty sync), and the kind is re-checked until it is back', async () => {
    const h = harness({ kindRecheckMs: 1000 });
    h.api.put(gitRepository('ns', 'app'));
    h.informer.start();
    await settle();
    expect(h.objects.size).toBe(1);
    h.api.served = false;
    h.api.streams[0]!.cut();
    await settle();
    await h.clock.advance(375); // the quiet watch's backoff, then the re-watch finds 404
    expect(h.informer.state()).toBe('kind-absent');
    expect(h.syncs).toEqual([1, 0]);
    expect(h.objects.size).toBe(0);
    h.api.served = true;
    await h.clock.advance(1000);
    expect(h.informer.state()).toBe('watching');
    expect(h.syncs).toEqual([1, 0, 1]);
    await stopsCleanly(h);
  });
});

describe('namespaces', () => {
  test('one watch per listed namespace; each re-lists alone while onSync always hands over all of them', async () => {
    const h = harness({ namespaces: ['team-a', 'team-b'] });
    h.api.put(gitRepository('team-a', 'a1'));
    h.api.put(gitRepository('team-b', 'b1'));
    h.api.put(gitRepository('elsewhere', 'x'));
    h.informer.start();
    await settle();
    expect(h.api.lists.map((path) => path.split('?')[0])).toEqual([
      `/apis/${GIT.apiVersion}/namespaces/team-a/gitrepositories`,
      `/apis/${GIT.apiVersion}/namespaces/team-b/gitrepositories`,
    ]);
    expect([...h.objects.keys()].sort()).toEqual(['team-a/a1', 'team-b/b1']);
    h.api.put(gitRepository('elsewhere', 'y'));
    h.api.put(gitRepository('team-b', 'b2'));
    await settle();
    expect(h.changes).toEqual(['upsert team-b/b2']); // not `elsewhere`: it is not watched

    // team-a's watch expires: only team-a re-lists, and the sync still holds team-b's objects.
    const teamA = h.api.streams.find((stream) => stream.namespace === 'team-a')!;
    h.api.put(gitRepository('team-a', 'a2'));
    await settle();
    teamA.cut();
    h.api.remove('team-a', 'a1');
    h.api.compact();
    await settle();
    expect(h.api.lists.filter((path) => path.includes('/team-a/'))).toHaveLength(2);
    expect(h.api.lists.filter((path) => path.includes('/team-b/'))).toHaveLength(1);
    expect([...h.objects.keys()].sort()).toEqual(['team-a/a2', 'team-b/b1', 'team-b/b2']);
    expect(h.informer.state()).toBe('watching');
    await stopsCleanly(h);
  });
});

describe('stop()', () => {
  test('leaves no stream and no timer, from every state, and resolves once the connection is closed', async () => {
    // watching
    const watching = harness();
    watching.informer.start();
    await settle();
    expect(watching.api.openStreams()).toBe(1);
    await stopsCleanly(watching);

    // backing off
    const backingOff = harness();
    backingOff.api.failNext('list', [new KubeError('answered 503', 'http', 503)]);
    backingOff.informer.start();
    await settle();
    expect(backingOff.informer.state()).toBe('backing-off');
    expect(backingOff.clock.timers()).toBe(1);
    await stopsCleanly(backingOff);

    // kind absent
    const absent = harness();
    absent.api.served = false;
    absent.informer.start();
    await settle();
    expect(absent.informer.state()).toBe('kind-absent');
    await stopsCleanly(absent);

    // never started, and start() after stop() does nothing
    const idle = harness();
    await stopsCleanly(idle);
    idle.informer.start();
    await settle();
    expect(idle.api.lists).toHaveLength(0);
  });

  test('in the middle of a list: the page in flight is abandoned and nothing is handed over after stop()', async () => {
    const h = harness({ pageSize: 1 });
    h.api.put(gitRepository('ns', 'a'));
    h.api.put(gitRepository('ns', 'b'));
    h.informer.start();
    const stopped = h.informer.stop();
    await stopped;
    await settle();
    expect(h.syncs).toEqual([]);
    expect(h.api.openStreams()).toBe(0);
    expect(h.clock.timers()).toBe(0);
  });
});
