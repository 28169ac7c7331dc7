/**
 * Discovery at run time: one informer per watched kind and cluster, each feeding its index; a delivery's events
 * are looked up in every index and become exact-name selectors for the reconciler of the object's cluster, each
 * with the rule that found it. Owns its watches: stop() ends them all (shutdown, reload).
 */
import type { DiscoveredRequest, DiscoveryResult } from '../pipeline/index.ts';
import type { Logger } from '../core/index.ts';
import type { Event } from '../provider-kit/index.ts';
import type { Clock } from '../core/index.ts';
import { annotationFor, defaultApiVersion } from '../core/index.ts';
import type { KubeApi } from '../kube/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import { createInformer, type Informer, type InformerOptions, type WatchState } from '../kube/index.ts';
import { eventKeys, type DiscoveredKind, type DiscoveredObject } from './discovered-object.ts';
import { createDiscoveryIndex, type DiscoveryIndex } from './discovery-index.ts';
import { matchDiscovered } from './match-discovered.ts';
import { describeEvent, summarizeMisses } from './reasons.ts';

export interface DiscoverySettings {
  /** Namespaces to watch; undefined: all (one cluster-wide watch per kind). */
  namespaces?: readonly string[];
  kinds: readonly DiscoveredKind[];
  /** Providers whose deliveries use discovery; undefined: all. */
  providers?: readonly string[];
}

/** A cluster to discover in; `name` is undefined for the single `kubernetes:` connection. */
export interface DiscoveryCluster {
  name?: string;
  api: KubeApi;
}

/** What discovery tells the observers (metrics); implemented in observe/. */
export interface DiscoveryReporter {
  objects(cluster: string | undefined, kind: string, count: number): void;
  state(cluster: string | undefined, kind: string, state: WatchState): void;
}

export interface DiscoveryOptions {
  settings: DiscoverySettings;
  clusters: readonly DiscoveryCluster[];
  clock: Clock;
  log: Logger;
  reporter?: DiscoveryReporter;
  /** Informer tuning (tests: short re-checks; benchmarks: page size). */
  informer?: Pick<InformerOptions, 'backoff' | 'random' | 'kindRecheckMs' | 'watchTimeoutSeconds' | 'pageSize' | 'maxLineBytes'>;
  /** Where informers come from: a pool shares one per kind and cluster with following (default: one of discovery's own). */
  informers?: (options: InformerOptions) => Informer;
}

/** A discovered object to reconcile, in its cluster. */
export interface WatchStatus {
  cluster?: string;
  kind: string;
  state: WatchState;
  problem?: string;
  objects: number;
  /** Listed at least once, or found absent: what it holds is what the cluster holds. */
  synced: boolean;
}

export interface Discovery {
  start(): void;
  /** Ends every watch; resolves when their connections are closed. */
  stop(): Promise<void>;
  /** The discovered objects `events` concern; undefined when `provider` does not use discovery. */
  find(provider: string, events: readonly Event[]): DiscoveryResult | undefined;
  /** Every object it holds that a push could reconcile (not ignored, not suspended), when `provider` uses discovery. */
  everything(provider: string): DiscoveredRequest[];
  status(): WatchStatus[];
}

interface Watch {
  cluster?: string;
  kind: DiscoveredKind;
  index: DiscoveryIndex;
  informer: Informer;
  synced: boolean;
}

/**
 * @example
 * const discovery = createDiscovery({ settings: { kinds: ['GitRepository'] }, clusters: [{ api: client.api }], clock, log });
 * discovery.start();
 * discovery.find('github', events); // { requests: [{ selector: GitRepository flux-system/app, rule: 'discovered: …' }], misses: [], … }
 */
export function createDiscovery(options: DiscoveryOptions): Discovery {
  const { settings, clock } = options;
  const providers = settings.providers ? new Set(settings.providers) : undefined;
  let startedAt = 0;
  const watches: Watch[] = options.clusters.flatMap((cluster) => settings.kinds.map((kind) => createWatch(options, cluster, kind, () => startedAt)));
  return {
    start() {
      startedAt = clock.now();
      for (const watch of watches) watch.informer.start();
    },
    async stop() {
      await Promise.all(watches.map((watch) => watch.informer.stop()));
    },
    find(provider, events) {
      if (providers && !providers.has(provider)) return undefined;
      return findDiscovered(watches, events);
    },
    everything(provider) {
      if (providers && !providers.has(provider)) return [];
      return watches.flatMap((watch) => watch.index.all().filter((object) => !object.ignored && !object.suspended).map((object) => discoveredRequest(watch.cluster, object, 'every object discovery holds')));
    },
    status: () =>
      watches.map((watch) => {
        const problem = watch.informer.problem();
        return { ...(watch.cluster !== undefined ? { cluster: watch.cluster } : {}), kind: watch.kind, state: watch.informer.state(), ...(problem !== undefined ? { problem } : {}), objects: watch.index.size, synced: watch.synced };
      }),
  };
}

/** One kind in one cluster: an informer keeping its index; `startedAt` times the first list. */
function createWatch(options: DiscoveryOptions, cluster: DiscoveryCluster, kind: DiscoveredKind, startedAt: () => number): Watch {
  const { settings, clock, log, reporter } = options;
  const index = createDiscoveryIndex();
  const watch: Watch = { cluster: cluster.name, kind, index, synced: false, informer: undefined as unknown as Informer };
  const counted = () => reporter?.objects(cluster.name, kind, index.size);
  watch.informer = (options.informers ?? createInformer)({
    ...options.informer,
    api: cluster.api,
    apiVersion: defaultApiVersion(kind)!,
    kind,
    namespaces: settings.namespaces,
    clock,
    log: cluster.name === undefined ? log : withCluster(log, cluster.name),
    onSync(objects) {
      index.replace(objects);
      // The first list of each kind: how long the index took to build, for operators and bench/discovery.ts.
      if (!watch.synced) log.info('discovery listed', { ...(cluster.name !== undefined ? { cluster: cluster.name } : {}), kind, objects: index.size, ms: clock.now() - startedAt() });
      watch.synced = true;
      counted();
    },
    onChange({ type, object }) {
      if (type === 'delete') index.remove(object);
      else index.upsert(object);
      counted();
    },
    onState(state) {
      if (state === 'kind-absent') watch.synced = true;
      reporter?.state(cluster.name, kind, state);
    },
  });
  return watch;
}

/** The discovered objects a delivery's events concern, over every watch, with the near misses and why. */
function findDiscovered(watches: readonly Watch[], events: readonly Event[]): DiscoveryResult {
  const requests = new Map<string, DiscoveredRequest>();
  const misses = new Map<string, string>();
  let shown: Event | undefined;
  let candidates = 0;
  for (const event of events) {
    if (event.deleted) continue;
    const keys = eventKeys(event);
    if (keys.size === 0) continue;
    for (const watch of watches) {
      const found = watch.index.candidates(keys);
      candidates += found.length;
      if (found.length === 0) continue;
      const { hits, misses: missed } = matchDiscovered(event, keys, found);
      const where = watch.cluster === undefined ? '' : `cluster ${watch.cluster}: `;
      for (const hit of hits) {
        const entry = discoveredRequest(watch.cluster, hit.object, hit.rule);
        if (!requests.has(entry.selector.key)) requests.set(entry.selector.key, entry);
        shown ??= event;
      }
      for (const miss of missed) misses.set(discoveredRequest(watch.cluster, miss.object, '').selector.key, `${where}${miss.object.label}: ${miss.why}`);
    }
  }
  // An object another event of the delivery reconciles is not a near miss.
  for (const key of requests.keys()) misses.delete(key);
  const unsynced = watches.filter((watch) => !watch.synced).map((watch) => (watch.cluster === undefined ? watch.kind : `${watch.kind} in cluster ${watch.cluster}`));
  const event = shown ?? events[0]!;
  // In a stable order, whatever order the watches delivered the objects in.
  const missed = [...misses.values()].sort();
  return { requests: [...requests.values()], misses: summarizeMisses(missed), reason: describeEvent(events, event, candidates, missed, unsynced), event, ...(unsynced.length > 0 ? { unlisted: unsynced } : {}) };
}

/** An exact-name selector for the object, for the reconciler of its cluster, with the rule that found it. */
function discoveredRequest(cluster: string | undefined, object: DiscoveredObject, rule: string): DiscoveredRequest {
  const annotation = annotationFor(object.kind);
  return {
    ...(cluster !== undefined ? { cluster } : {}),
    rule,
    selector: {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.namespace,
      name: object.name,
      annotation,
      key: `${object.apiVersion}|${object.kind}|${object.namespace}|${object.name}|${annotation.key}|@${cluster ?? ''}`,
      label: object.label,
      ...(cluster !== undefined ? { clusters: [cluster] } : {}),
    },
  };
}

/** The same logger with `cluster` on every line. */
function withCluster(log: Logger, cluster: string): Logger {
  const add = (write: Logger['info']): Logger['info'] => (message, fields) => write(message, { cluster, ...fields });
  return { debug: add(log.debug), info: add(log.info), warn: add(log.warn), error: add(log.error), flush: () => log.flush() };
}
