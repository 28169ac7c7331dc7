/**
 * What keeping the promise of a 202 costs, each figure beside its baseline in the same run:
 * - latency: push answered 202 → patch acknowledged by a real kube-apiserver (watch), p50/p99, sequential pushes
 *   each to its own object, interleaved between one fluxgate per store (`memory`, `sqlite`, and `nats` when
 *   `--nats URL` names a server), so noise hits them alike; a raw PATCH is the floor;
 * - replay: a journal holding 10,000 owed objects (written as a crashed gateway leaves them), then fluxgate started
 *   on it (dry-run): spawn → ready (the replay is fed before /readyz turns ready) → every item settled; beside the
 *   same start on an empty journal;
 * - size: 1,000,000 deliveries through the journal and the delivery log in process, with the default retention
 *   (records: admin.recentDeliveries; ids: the 11-minute dedupe window), on an injected clock at 100 deliveries/s:
 *   the file's size at the end and its peak, beside 1,000.
 * Ingest (req/s per store) is `bun bench/ingest.ts --state memory,sqlite`; fan-out with Events and the journal on is
 * `bun bench/fanout.ts`.
 *
 * usage: bun bench/journal.ts [--pushes 100] [--nats nats://127.0.0.1:4222] [--only latency,replay,size]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { StateConfig } from '../src/config/schema.ts';
import { createRequestedAtClock } from '../src/core/kinds.ts';
import type { ObjectSelector } from '../src/core/selector.ts';
import type { WorkItem } from '../src/reconcile/work-item.ts';
import { openStore } from '../src/store/open-store.ts';
import { openSqlite } from '../src/store/sqlite-file.ts';
import { sqliteTables } from '../src/store/sqlite-tables.ts';
import { createLogger } from '../src/core/log.ts';
import { manualClock } from '../test/support/manual-clock.ts';
import { tempDir } from '../test/support/temp-dir.ts';
import { createGitRepositories, kubeconfigBlock, rawPatcher, watchAnnotation, withCluster } from './api-server.ts';
import { freePort, githubProvider, githubPush, ms, percentile, printMachine, printTable, ratio, startFluxgate } from './support.ts';

const { values } = parseArgs({ options: { pushes: { type: 'string', default: '100' }, nats: { type: 'string' }, only: { type: 'string', default: 'latency,replay,size' } } });
const only = new Set(values.only.split(','));
const quiet = { committed() {}, pending() {}, failures() {} };

printMachine('journal: what keeping each 202 costs (latency per store, replay of 10,000 owed objects, size after 1,000,000 deliveries)');

// ---- latency ---------------------------------------------------------------------------------------------

async function latency(): Promise<void> {
  const pushes = Number(values.pushes);
  const stores = ['memory', 'sqlite', ...(values.nats ? ['nats'] : [])];
  await withCluster(async (cluster, namespace) => {
    const names = (store: string) => Array.from({ length: pushes + 5 }, (_, index) => `${store}-${index}`);
    await createGitRepositories(cluster, namespace, [...stores.flatMap(names), ...names('raw')]);
    const gateways = await Promise.all(
      stores.map(async (store) => {
        const state = store === 'nats' ? `state: { store: nats, nats: { servers: [${values.nats}], name: bench${Date.now()} } }` : `state: { store: ${store} }`;
        const targets = names(store).map((name) => `  - { name: ${name}, providers: [github], match: { repository: bench/${name}, branches: [main] }, resources: [{ kind: GitRepository, name: ${name}, namespace: ${namespace} }] }`);
        const gateway = await startFluxgate((address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\n${kubeconfigBlock(cluster)}\nreconcile: { debounce: 2s, concurrency: 16 }\n${state}\n${githubProvider}\ntargets:\n${targets.join('\n')}\n`);
        return { store, gateway };
      }),
    );
    const watch = await watchAnnotation(cluster, namespace);
    const patch = rawPatcher(cluster, namespace);
    const samples = new Map<string, number[]>(['raw', ...stores].map((name) => [name, []]));
    try {
      for (let index = 0; index < pushes + 5; index += 1) {
        // The first five warm up connections and the JIT on every side; not counted.
        const counted = index >= 5;
        const rawName = `raw-${index}`;
        const rawAck = watch.nextChange(rawName);
        const sentAt = performance.now();
        await patch(rawName);
        if (counted) samples.get('raw')!.push((await rawAck).at - sentAt);
        else await rawAck;
        for (const { store, gateway } of gateways) {
          const name = `${store}-${index}`;
          const acked = watch.nextChange(name);
          const answer = await githubPush(`bench/${name}`).send(`${gateway.url}/hook/github`);
          if (answer.status !== 202) throw new Error(`${store}: a push was answered ${answer.status}`);
          const change = await acked;
          if (counted) samples.get(store)!.push(change.at - answer.answeredAt);
        }
      }
      const raw = samples.get('raw')!;
      const memory = samples.get('memory')!;
      printTable(
        ['', 'p50', 'p99', 'p50 vs memory', 'p50 vs raw PATCH'],
        ['raw', ...stores].map((name) => {
          const values = samples.get(name)!;
          const p50 = percentile(values, 50);
          return [name === 'raw' ? 'raw PATCH' : `fluxgate (${name})`, ms(p50), ms(percentile(values, 99)), name === 'raw' ? '' : `${(p50 - percentile(memory, 50)).toFixed(2)} ms`, ratio(p50, percentile(raw, 50))];
        }),
      );
      console.log(`goal: sqlite p50 at most 2 ms above memory (${pushes} pushes each, interleaved)`);
      for (const { store, gateway } of gateways) console.log(`fluxgate (${store}) warnings/errors: ${await gateway.problems()}`);
    } finally {
      watch.stop();
      await Promise.all(gateways.map(({ gateway }) => gateway.stop()));
    }
  });
}

// ---- replay ----------------------------------------------------------------------------------------------

const selector = (name: string): ObjectSelector => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name, annotation: { key: 'reconcile.fluxcd.io/requestedAt' }, key: name, label: `GitRepository flux-system/${name}` });

/** A journal left as by a gateway killed with `owed` objects accepted and none patched. */
function leaveOwed(directory: string, owed: number): void {
  const tables = sqliteTables(openSqlite({ directory, maxSizeBytes: 2 ** 30, now: Date.now }), { deliveries: 100, maxAgeMs: 7 * 86_400_000, dedupeWindowMs: 660_000 });
  const now = Date.now();
  const items: [string, string][] = [];
  for (let index = 0; index < owed; index += 1) {
    const id = `\u0000source.toolkit.fluxcd.io/v1|GitRepository|flux-system|owed-${index}|reconcile.fluxcd.io/requestedAt`;
    const item: WorkItem = { id, selector: selector(`owed-${index}`), revision: index + 1, value: `2031-01-01T00:00:00.${String(index).padStart(9, '0')}Z`, tickets: [{ seq: index + 1, acceptedAt: now, cause: { provider: 'github', repository: 'org/app' } }], untracked: 0, since: now };
    items.push([id, JSON.stringify(item)]);
  }
  tables.commit({ items, failures: [], seen: [], nextSeq: owed + 1, records: [] });
  tables.close();
}

async function timeStart(owed: number): Promise<{ ready: number; settled: number }> {
  const adminPort = freePort();
  const dir = tempDir('fluxgate-bench-replay-');
  try {
    if (owed > 0) leaveOwed(join(dir.path, 'state'), owed);
    const target = `  - { name: app, providers: [github], match: { repository: bench/app }, resources: [{ kind: GitRepository, name: app, namespace: flux-system }] }`;
    const started = performance.now();
    const gateway = await startFluxgate((address) => `server: { address: ${address}, adminAddress: 127.0.0.1:${adminPort} }\nkubernetes: { mode: dry-run }\nstate: { path: ${join(dir.path, 'state')} }\n${githubProvider}\ntargets:\n${target}\n`);
    const ready = gateway.startMs;
    let settled = NaN;
    for (;;) {
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      if (/^fluxgate_journal_pending 0$/m.test(metrics)) {
        settled = performance.now() - started;
        break;
      }
      await Bun.sleep(10);
    }
    await gateway.stop();
    return { ready, settled };
  } finally {
    dir.remove();
  }
}
async function replay(): Promise<void> {
  const rounds = 3;
  const empty: { ready: number; settled: number }[] = [];
  const full: { ready: number; settled: number }[] = [];
  for (let round = 0; round < rounds; round += 1) {
    empty.push(await timeStart(0));
    full.push(await timeStart(10_000));
  }
  const median = (runs: { ready: number; settled: number }[], pick: 'ready' | 'settled') => percentile(runs.map((run) => run[pick]), 50);
  printTable(
    ['start (dry-run, median of 3)', 'spawn → ready (replay fed)', 'spawn → all settled'],
    [
      ['empty journal', ms(median(empty, 'ready')), ms(median(empty, 'settled'))],
      ['10,000 owed objects', ms(median(full, 'ready')), ms(median(full, 'settled'))],
    ],
  );
  console.log(`goal: the replay of 10,000 owed objects within 2 s (here ${ms(median(full, 'ready') - median(empty, 'ready'))} more than an empty start to ready)`);
}

// ---- size ------------------------------------------------------------------------------------------------

async function size(deliveries: number): Promise<{ end: number; peak: number; seconds: number }> {
  const dir = tempDir('fluxgate-bench-size-');
  const clock = manualClock(Date.UTC(2031, 0, 1));
  const state = Value.Decode(StateConfig, Value.Default(StateConfig, { path: dir.path, sync: 'normal' })) as StateConfig;
  let reconcile: (items: readonly WorkItem[]) => void = () => {};
  const store = await openStore({
    state, configDir: dir.path, env: {}, clusters: [undefined], maxPending: 10_000, recentDeliveries: 100, requestedAt: createRequestedAtClock(), clock,
    log: createLogger({ level: 'error', write: () => {} }), reporter: quiet, feed: (items) => reconcile(items),
  });
  // Reconcile as dry-run does: each item settled as soon as it is fed.
  reconcile = (items) => { for (const item of items) store.journal.settle(item.id, item.revision, { kind: 'done' }); };
  let peak = 0;
  const started = performance.now();
  const accept = async (index: number) => {
    const outcome = await store.journal.accept({ provider: 'github', deliveryId: `delivery-${index}`, cause: { provider: 'github', repository: 'your-org/your-repo', ref: 'refs/heads/main', deliveryId: `delivery-${index}` }, selectors: [selector(`app-${index % 50}`)] });
    if (outcome.kind !== 'accepted') return;
    store.deliveries.add({ ticket: outcome.ticket.seq, deliveryId: `delivery-${index}`, provider: 'github', type: 'github', event: 'push', receivedAt: new Date(clock.now()).toISOString(), status: 202, outcome: 'accepted', repository: 'your-org/your-repo', ref: 'refs/heads/main', commit: '0000000000000000000000000000000000000000', targets: ['app'] });
  };
  // 100 deliveries a second, each second's arriving together (one group commit, as under load); retention runs on
  // the injected clock as in a gateway.
  for (let second = 0; second * 100 < deliveries; second += 1) {
    await Promise.all(Array.from({ length: Math.min(100, deliveries - second * 100) }, (_, offset) => accept(second * 100 + offset)));
    await clock.advance(1000);
    if (second % 100 === 99) peak = Math.max(peak, store.sizeBytes() ?? 0);
  }
  await clock.advance(120_000);
  const end = store.sizeBytes() ?? 0;
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  dir.remove();
  return { end, peak: Math.max(peak, end), seconds };
}

async function sizes(): Promise<void> {
  const small = await size(1_000);
  const large = await size(1_000_000);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  printTable(
    ['deliveries (in process, 100/s on an injected clock)', 'file at the end', 'peak', 'wall time'],
    [
      ['1,000', mib(small.end), mib(small.peak), `${small.seconds.toFixed(1)} s`],
      ['1,000,000', mib(large.end), mib(large.peak), `${large.seconds.toFixed(1)} s`],
    ],
  );
}

if (only.has('latency')) await latency();
if (only.has('replay')) await replay();
if (only.has('size')) await sizes();
