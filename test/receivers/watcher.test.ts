/**
 * The Receiver watcher on a fake informer and an in-memory API (Secrets and status patches), with a manual clock:
 * routes appear, move with a rotated token, go with a deleted Receiver, and yield to the config file's.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { builtinProviders } from '../../plugins/index.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import type { ProviderRuntime } from '../../src/pipeline/compile.ts';
import { createRouteTable } from '../../src/pipeline/route-table.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { KubeError, type KubeApi } from '../../src/kube/client.ts';
import type { WatchedObject } from '../../src/kube/informer.ts';
import type { MissingPermission } from '../../src/kube/permission-check.ts';
import type { ObjectSelector } from '../../src/core/selector.ts';
import { createCelEvaluator } from '../../src/receivers/cel-evaluator.ts';
import { createFilterCompiler, type FilterCompiler } from '../../src/receivers/cel-filter.ts';
import { receiverPath } from '../../src/receivers/webhook-path.ts';
import { watchFluxReceivers } from '../../src/receivers/watcher.ts';
import { fakeInformers } from '../support/fake-informer.ts';
import { manualClock, settle } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const catalog = builtinCatalog(builtinProviders, providerKit);
const REFRESH = 60_000;
const base64 = (text: string) => Buffer.from(text).toString('base64');

function receiver(name: string, spec: Record<string, unknown> = {}, generation = 1, status?: unknown): WatchedObject {
  return {
    apiVersion: 'notification.toolkit.fluxcd.io/v1',
    kind: 'Receiver',
    metadata: { name, namespace: 'apps', generation },
    spec: { type: 'generic-hmac', secretRef: { name: `${name}-token` }, resources: [{ kind: 'GitRepository', name: 'app' }], ...spec },
    ...(status !== undefined ? { status } : {}),
  };
}

// No delivery is evaluated here: the evaluator is what the watcher hands to each Receiver's runtime.
const evaluator = createCelEvaluator({ clock: manualClock() });
afterAll(() => evaluator.close());

function setup(options: { writeStatus?: boolean; config?: ProviderRuntime[]; filters?: FilterCompiler; crossNamespaceRefs?: boolean; missingPermissions?: (selectors: readonly ObjectSelector[]) => Promise<MissingPermission[]> } = {}) {
  const clock = manualClock(Date.UTC(2031, 0, 1));
  const log = memoryLogger();
  const secrets = new Map<string, Record<string, string>>();
  const reads: string[] = [];
  const concurrency = { now: 0, most: 0 };
  const patches: { path: string; body: any }[] = [];
  const api: KubeApi = {
    target: 'test',
    collectionPath: async (_apiVersion, _kind, namespace) => `/apis/notification.toolkit.fluxcd.io/v1/namespaces/${namespace}/receivers`,
    request: async (method, path, init) => {
      if (method === 'PATCH') {
        patches.push({ path, body: JSON.parse(init.body!) });
        return undefined;
      }
      reads.push(path);
      concurrency.most = Math.max(concurrency.most, ++concurrency.now);
      await settle(1);
      concurrency.now -= 1;
      const name = path.split('/').pop()!;
      const data = secrets.get(name);
      if (!data) throw new KubeError(`secrets "${name}" not found`, 'http', 404);
      return { metadata: { name }, data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)])) };
    },
    stream: () => Promise.reject(new Error('no stream')),
    forgetDiscovery() {},
  };
  const routes = createRouteTable(['config', 'receivers']);
  if (options.config) routes.replace('config', options.config);
  const informers = fakeInformers();
  const watcher = watchFluxReceivers({ api, catalog, routes, writeStatus: options.writeStatus ?? false, secretRefreshMs: REFRESH, clock, log, createInformer: informers.create, evaluator, ...(options.filters ? { filters: options.filters } : {}), ...(options.crossNamespaceRefs !== undefined ? { crossNamespaceRefs: options.crossNamespaceRefs } : {}), ...(options.missingPermissions ? { missingPermissions: options.missingPermissions } : {}) });
  watcher.start();
  return { clock, log, secrets, reads, concurrency, patches, routes, watcher, informer: informers.last() };
}

const pathOf = (token: string, name: string) => receiverPath(token, name, 'apps');

describe('routes follow the cluster', () => {
  test('each Receiver with its Secret is served at its hashed path, under a bounded name', async () => {
    const run = setup();
    run.secrets.set('a-token', { token: 'token-a' });
    run.secrets.set('b-token', { token: 'token-b' });
    run.informer.sync([receiver('a'), receiver('b', { type: 'github' })]);
    await settle();
    expect(run.routes.get(pathOf('token-a', 'a'))?.name).toBe('receiver/apps/a');
    expect(run.routes.get(pathOf('token-b', 'b'))?.type).toBe('github');
    expect(run.watcher.list()).toEqual([
      { namespace: 'apps', name: 'a', type: 'generic-hmac', ready: true, reason: 'served by fluxgate', suspended: false, path: pathOf('token-a', 'a').slice(0, 12) + '…' },
      { namespace: 'apps', name: 'b', type: 'github', ready: true, reason: 'served by fluxgate', suspended: false, path: pathOf('token-b', 'b').slice(0, 12) + '…' },
    ]);
  });

  test('a rotated token moves the path at the next refresh; the old one is gone', async () => {
    const run = setup();
    run.secrets.set('a-token', { token: 'old-token' });
    run.informer.sync([receiver('a')]);
    await settle();
    expect(run.routes.get(pathOf('old-token', 'a'))).toBeDefined();
    run.secrets.set('a-token', { token: 'new-token' });
    await run.clock.advance(REFRESH - 1);
    expect(run.routes.get(pathOf('new-token', 'a'))).toBeUndefined();
    await run.clock.advance(1);
    expect(run.routes.get(pathOf('old-token', 'a'))).toBeUndefined();
    expect(run.routes.get(pathOf('new-token', 'a'))?.name).toBe('receiver/apps/a');
  });

  test('a deleted Receiver’s path is gone at once', async () => {
    const run = setup();
    run.secrets.set('a-token', { token: 'token-a' });
    run.informer.sync([receiver('a')]);
    await settle();
    run.informer.remove(receiver('a'));
    expect(run.routes.get(pathOf('token-a', 'a'))).toBeUndefined();
    expect(run.watcher.list()).toEqual([]);
  });

  test('a Receiver whose Secret is missing is listed as not ready with the reason, and served once it exists', async () => {
    const run = setup();
    run.informer.sync([receiver('a')]);
    await settle();
    expect(run.watcher.list()).toEqual([{ namespace: 'apps', name: 'a', type: 'generic-hmac', ready: false, reason: 'Secret apps/a-token not found', suspended: false }]);
    expect(run.routes.all()).toEqual([]);
    run.secrets.set('a-token', { token: 'token-a' });
    await run.clock.advance(REFRESH);
    expect(run.routes.get(pathOf('token-a', 'a'))).toBeDefined();
  });

  test('a new or changed Receiver reads its Secret at once; a status change alone reads nothing', async () => {
    const run = setup();
    run.secrets.set('a-token', { token: 'token-a' });
    run.secrets.set('other-token', { token: 'token-o' });
    run.informer.sync([]);
    run.informer.upsert(receiver('a'));
    await settle();
    expect(run.routes.get(pathOf('token-a', 'a'))).toBeDefined();
    const readsBefore = run.reads.length;
    run.informer.upsert(receiver('a', {}, 1, { conditions: [] }));
    await settle();
    expect(run.reads.length).toBe(readsBefore);
    run.informer.upsert(receiver('a', { secretRef: { name: 'other-token' } }, 2));
    await settle();
    expect(run.routes.get(pathOf('token-o', 'a'))).toBeDefined();
    expect(run.routes.get(pathOf('token-a', 'a'))).toBeUndefined();
  });

  test('an unreadable Receiver is listed with its problem and served nowhere', async () => {
    const run = setup();
    run.informer.sync([{ apiVersion: 'notification.toolkit.fluxcd.io/v1', kind: 'Receiver', metadata: { name: 'bad', namespace: 'apps' }, spec: { type: 'svn', resources: [] } }]);
    await settle();
    expect(run.watcher.list()).toEqual([{ namespace: 'apps', name: 'bad', ready: false, reason: expect.stringContaining('spec.type "svn" is not a Receiver type'), suspended: false }]);
  });
});

test('a refresh reads each named Secret once, at most eight at a time', async () => {
  const run = setup();
  const names = Array.from({ length: 20 }, (_, index) => `r${index}`);
  for (const name of names) run.secrets.set(`${name}-token`, { token: `token-${name}` });
  run.informer.sync([...names.map((name) => receiver(name)), receiver('shares', { secretRef: { name: 'r0-token' } })]);
  await settle(20);
  expect(run.routes.all()).toHaveLength(21);
  expect(run.reads).toHaveLength(20);
  expect(run.concurrency.most).toBe(8);
});

test('a Receiver’s CEL is compiled once per generation, however often its token rotates', async () => {
  const base = createFilterCompiler();
  const compiled: string[] = [];
  const filters: FilterCompiler = { compile: (expression, scope) => (compiled.push(expression), base.compile(expression, scope)), compileClaimRule: (expression, result) => base.compileClaimRule(expression, result) };
  const run = setup({ filters });
  run.secrets.set('a-token', { token: 'one' });
  run.informer.sync([receiver('a', { resourceFilter: "req.x == 'y'" })]);
  await settle();
  run.secrets.set('a-token', { token: 'two' });
  await run.clock.advance(REFRESH);
  expect(run.routes.get(pathOf('two', 'a'))).toBeDefined();
  expect(compiled).toEqual(["req.x == 'y'"]);
  run.informer.upsert(receiver('a', { resourceFilter: "req.x == 'z'" }, 2));
  await settle();
  expect(compiled).toEqual(["req.x == 'y'", "req.x == 'z'"]);
});

test('crossNamespaceRefs: false refuses a Receiver that names a resource in another namespace', async () => {
  const run = setup({ crossNamespaceRefs: false });
  run.secrets.set('a-token', { token: 'token-a' });
  run.secrets.set('b-token', { token: 'token-b' });
  run.informer.sync([receiver('a', { resources: [{ kind: 'GitRepository', name: 'app', namespace: 'other' }] }), receiver('b', { resources: [{ kind: 'GitRepository', name: 'app', namespace: 'apps' }] })]);
  await settle();
  expect(run.watcher.list().map((view) => [view.name, view.ready, view.reason])).toEqual([
    ['a', false, 'spec.resources[0]: cross-namespace references are not allowed (fluxReceivers.crossNamespaceRefs: false)'],
    ['b', true, 'served by fluxgate'],
  ]);
});

describe('permissions', () => {
  test('a Receiver naming what fluxgate may not patch is served, and its listing says what is missing; asked once per generation', async () => {
    const asked: string[][] = [];
    const run = setup({
      missingPermissions: async (selectors) => {
        asked.push(selectors.map((selector) => selector.label));
        return selectors.some((selector) => selector.kind === 'HelmRepository') ? [{ verb: 'patch', kind: 'HelmRepository', namespace: 'apps', selectors: ['HelmRepository apps/charts'] }] : [];
      },
    });
    run.secrets.set('a-token', { token: 'token-a' });
    run.secrets.set('b-token', { token: 'token-b' });
    run.informer.sync([receiver('a'), receiver('b', { resources: [{ kind: 'HelmRepository', apiVersion: 'source.toolkit.fluxcd.io/v1', name: 'charts' }] })]);
    await settle();
    expect(run.routes.get(pathOf('token-b', 'b'))?.name).toBe('receiver/apps/b');
    const [a, b] = run.watcher.list();
    expect(a).toMatchObject({ name: 'a', ready: true, reason: 'served by fluxgate' });
    expect(b).toMatchObject({ name: 'b', ready: true, reason: 'served by fluxgate; fluxgate may not patch HelmRepository in apps (RBAC)' });
    expect(run.log.lines.some((line) => line.msg.startsWith('Receiver served, but fluxgate may not reconcile') && line.missing === 'patch HelmRepository in apps')).toBe(true);

    // A refresh of the same generation asks nothing again; a new generation is asked anew.
    await run.clock.advance(REFRESH);
    await settle();
    expect(asked).toHaveLength(2);
    run.informer.upsert(receiver('a', { resources: [{ kind: 'GitRepository', name: 'other' }] }, 2));
    await settle();
    expect(asked.at(-1)).toEqual(['GitRepository apps/other']);
  });
});

describe('collisions with the config file', () => {
  test('the config keeps the path; the collision is logged once and listed', async () => {
    const path = pathOf('token-a', 'a');
    const configured = { name: 'ci', type: 'generic', route: path } as ProviderRuntime;
    const run = setup({ config: [configured] });
    run.secrets.set('a-token', { token: 'token-a' });
    run.informer.sync([receiver('a')]);
    await settle();
    await run.clock.advance(REFRESH);
    expect(run.routes.get(path)?.name).toBe('ci');
    const errors = run.log.lines.filter((line) => line.level === 'error');
    expect(errors).toEqual([expect.objectContaining({ msg: expect.stringContaining('not served'), receiver: 'receiver/apps/a', keptBy: 'ci', path: `${path.slice(0, 12)}…` })]);
    expect(run.watcher.list()[0]).toMatchObject({ ready: false, reason: "not served: the path is provider ci's (from the config file)" });
  });
});

describe('secrets stay secret', () => {
  test('no token, path or Secret value reaches a log line or the list', async () => {
    const run = setup({ writeStatus: true });
    run.secrets.set('a-token', { token: 'token-value-9c1e' });
    run.informer.sync([receiver('a'), receiver('missing')]);
    await settle();
    const everything = JSON.stringify(run.log.lines) + JSON.stringify(run.watcher.list());
    expect(everything).not.toContain('token-value-9c1e');
    expect(everything).not.toContain(pathOf('token-value-9c1e', 'a'));
    // The status carries the full path in webhookPath only, as Flux writes it.
    expect(JSON.stringify(run.patches.map((patch) => patch.body.status.conditions))).not.toContain(pathOf('token-value-9c1e', 'a'));
  });
});

describe('status write-back', () => {
  test('webhookPath and a Ready condition, written once until the status changes', async () => {
    const run = setup({ writeStatus: true });
    run.secrets.set('a-token', { token: 'token-a' });
    run.informer.sync([receiver('a', {}, 3)]);
    await settle();
    expect(run.patches).toEqual([
      {
        path: '/apis/notification.toolkit.fluxcd.io/v1/namespaces/apps/receivers/a/status',
        body: {
          status: {
            webhookPath: pathOf('token-a', 'a'),
            observedGeneration: 3,
            conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: `Receiver served by fluxgate at ${pathOf('token-a', 'a').slice(0, 12)}…`, observedGeneration: 3, lastTransitionTime: '2031-01-01T00:00:00Z' }],
          },
        },
      },
    ]);
    // The watch shows the written status: nothing more to write, even at the next refresh.
    run.informer.upsert(receiver('a', {}, 3, run.patches[0]!.body.status));
    await run.clock.advance(REFRESH);
    expect(run.patches).toHaveLength(1);
  });

  test('a missing Secret: Ready False, TokenNotFound, no path', async () => {
    const run = setup({ writeStatus: true });
    run.informer.sync([receiver('a', {}, 1, { conditions: [{ type: 'Reconciling', status: 'True', reason: 'Progressing', message: '', lastTransitionTime: '2030-01-01T00:00:00Z' }] })]);
    await settle();
    expect(run.patches[0]!.body.status).toMatchObject({
      webhookPath: '',
      conditions: [{ type: 'Reconciling' }, { type: 'Ready', status: 'False', reason: 'TokenNotFound', message: 'Secret apps/a-token not found' }],
    });
  });

  test('off by default: nothing is written', async () => {
    const run = setup();
    run.secrets.set('a-token', { token: 'token-a' });
    run.informer.sync([receiver('a')]);
    await settle();
    expect(run.patches).toEqual([]);
  });
});

test('stop ends the watch and the refresh timer, and reads nothing more', async () => {
  const run = setup();
  run.secrets.set('a-token', { token: 'token-a' });
  run.informer.sync([receiver('a')]);
  await settle();
  await run.watcher.stop();
  expect(run.informer.stopped).toBe(true);
  expect(run.clock.timers()).toBe(0);
  const reads = run.reads.length;
  await run.clock.advance(REFRESH * 3);
  expect(run.reads.length).toBe(reads);
  // The routes stay for the next watcher to replace.
  expect(run.routes.get(pathOf('token-a', 'a'))).toBeDefined();
});
