/**
 * An informer: keeps a consumer up to date with every object of one kind, in all namespaces (one cluster-wide
 * watch) or in a list of them (one watch each), across API-server restarts, expired resourceVersions and a CRD
 * installed, deleted or installed again. The list/watch protocol itself is in list-watch.ts.
 *
 * Why not @kubernetes/client-node's Watch or informer: its HTTP layer goes through undici's `fetch` with an
 * undici `Agent` for TLS, and under Bun that Agent is a stub. Measured with client-node 2.0.1 on Bun 1.4.5
 * against the test kube-apiserver: given a kubeconfig whose certificate-authority is the server's CA, its Watch
 * still fails with SELF_SIGNED_CERT_IN_CHAIN (the CA is ignored), so it could only work with verification off.
 * It also buffers lines without a bound and uses the process's own timers. This builds on `KubeApi.stream`
 * (Bun's fetch with the kubeconfig's CA, client certificate and tls-server-name), so a watch verifies the API
 * server exactly as every other request does (test/watch/informer-real-apiserver.test.ts proves both ways).
 */
import type { Clock } from '../core/index.ts';
import { delay } from '../core/index.ts';
import { KubeError, type KubeApi } from './client.ts';
import { backoffDelay } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { watchCollection, type CollectionWatch } from './list-watch.ts';
import type { WatchedObject } from './watched-object.ts';

export type { WatchedObject } from './watched-object.ts';

export type WatchState = 'starting' | 'kind-absent' | 'listing' | 'watching' | 'backing-off' | 'stopped';

export interface InformerOptions {
  /** KubeClient.api */
  api: KubeApi;
  apiVersion: string;
  kind: string;
  /** undefined: all namespaces (one cluster-wide watch). */
  namespaces?: readonly string[];
  fieldSelector?: string;
  labelSelector?: string;
  /** Every timer (backoff, kind re-check, watch guard) runs on it: tests drive it. */
  clock: Clock;
  log: Logger;
  /** After every (re)list: the complete current set (a re-list replaces everything seen before). */
  onSync(objects: readonly WatchedObject[]): void;
  /** Each change seen by the watch after a sync. */
  onChange(change: { type: 'upsert' | 'delete'; object: WatchedObject }): void;
  /** The state or problem changed (for metrics and status pages); optional. */
  onState?(state: WatchState): void;
  /** Backoff between failed attempts: exponential from `initialMs`, capped at `maxMs`, equal jitter. Default 500 ms … 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** How often a kind that is not served (no CRD) is looked for again. Default 60 s. */
  kindRecheckMs?: number;
  /** The server ends each watch after this long (then it is resumed). Default 300 s. */
  watchTimeoutSeconds?: number;
  /** Objects per list page. Default 500. */
  pageSize?: number;
  /** A longer watch line is an error. Default 4 MiB (etcd stores objects of at most 1.5 MiB). */
  maxLineBytes?: number;
}

export interface Informer {
  start(): void;
  /** Ends the watch and every timer; resolves when the connection is closed. Idempotent. */
  stop(): Promise<void>;
  state(): WatchState;
  /** A person-readable reason when not watching (for /readyz and the status page), never a credential. */
  problem(): string | undefined;
}

const DEFAULTS = { initialMs: 500, maxMs: 30_000, kindRecheckMs: 60_000, watchTimeoutSeconds: 300, pageSize: 500, maxLineBytes: 4 * 1024 * 1024 };

/** Worst first: what state() reports when the namespaces' watches disagree. */
const SEVERITY = ['backing-off', 'listing', 'watching'] as const;

/**
 * @example
 * const informer = createInformer({ api: client.api, apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', clock: systemClock, log,
 *   onSync: (objects) => index.replace(objects), onChange: ({ type, object }) => (type === 'delete' ? index.remove(object) : index.upsert(object)) });
 * informer.start();
 * // … later (shutdown, reload):
 * await informer.stop();
 */
export function createInformer(options: InformerOptions): Informer {
  const settings = { ...DEFAULTS, ...options.backoff, ...definedOnly({ kindRecheckMs: options.kindRecheckMs, watchTimeoutSeconds: options.watchTimeoutSeconds, pageSize: options.pageSize, maxLineBytes: options.maxLineBytes }) };
  const namespaces = options.namespaces === undefined ? undefined : [...new Set(options.namespaces)];
  const stopping = new AbortController();
  const run: Run = {
    options,
    settings,
    backoff: { initialDelayMs: settings.initialMs, maxDelayMs: settings.maxMs, random: options.random ?? Math.random },
    namespaces,
    signal: stopping.signal,
    stopped: new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true })),
    status: informerStatus(options.onState),
    consumer: namespaceMerge(namespaces, options),
  };
  let running: Promise<void> | undefined;
  return {
    start() {
      if (running || stopping.signal.aborted) return;
      running = runInformer(run).finally(() => run.status.set('stopped'));
    },
    async stop() {
      stopping.abort(new Error('informer stopped'));
      await running;
      run.status.set('stopped');
    },
    state: () => run.status.state(),
    problem: () => run.status.problem(),
  };
}

type Phase = 'starting' | 'kind-absent' | 'resolving' | 'running' | 'stopped';

/** Where the informer is, and why it is not watching: owned here, reported to `onState` on each change. */
interface InformerStatus {
  state(): WatchState;
  problem(): string | undefined;
  /** Moves to `phase` (with the problem that keeps it there, when resolving or waiting for the kind). */
  set(phase: Phase, problem?: string): void;
  /** The watches of the collections, once running ([] when they end). */
  watching(collections: readonly CollectionWatch[]): void;
  /** A watch's own state changed. */
  changed(): void;
}

function informerStatus(onState: InformerOptions['onState']): InformerStatus {
  let phase: Phase = 'starting';
  let resolveProblem: string | undefined;
  let collections: readonly CollectionWatch[] = [];
  let reported: WatchState | undefined;
  const state = (): WatchState => {
    if (phase === 'stopped' || phase === 'starting' || phase === 'kind-absent') return phase;
    if (phase === 'resolving') return resolveProblem === undefined ? 'starting' : 'backing-off';
    const states = new Set(collections.map((watch) => watch.state()));
    return SEVERITY.find((candidate) => states.has(candidate)) ?? 'starting';
  };
  const changed = () => {
    const now = state();
    if (now !== reported) {
      reported = now;
      onState?.(now);
    }
  };
  return {
    state,
    problem() {
      const now = state();
      if (now === 'watching') return undefined;
      if (now === 'stopped') return 'stopped';
      if (phase !== 'running') return resolveProblem;
      const problems = collections.map((watch) => watch.problem()).filter((text): text is string => text !== undefined);
      if (problems.length === 0) return undefined;
      return problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more)`;
    },
    set(next, problem) {
      phase = next;
      if (next === 'resolving' || next === 'kind-absent') resolveProblem = problem;
      changed();
    },
    watching(watches) {
      collections = watches;
    },
    changed,
  };
}

/** What the consumer is handed: with several namespaces each re-lists on its own, yet onSync hands over everything. */
interface Consumer {
  sync(namespace: string | undefined, objects: WatchedObject[]): void;
  change(namespace: string | undefined, event: { type: 'upsert' | 'delete'; object: WatchedObject }): void;
  /** The kind is gone: its objects with it (told to the consumer if it had been synced). */
  gone(): void;
}

function namespaceMerge(namespaces: readonly string[] | undefined, options: Pick<InformerOptions, 'onSync' | 'onChange'>): Consumer {
  // Each namespace's objects are kept, so a re-list of one does not drop the others'.
  const stores = namespaces !== undefined && namespaces.length > 1 ? new Map<string, Map<string, WatchedObject>>() : undefined;
  let synced = false;
  return {
    sync(namespace, objects) {
      synced = true;
      if (!stores) return options.onSync(objects);
      stores.set(namespace!, new Map(objects.map((object) => [object.metadata.name, object])));
      options.onSync([...stores.values()].flatMap((store) => [...store.values()]));
    },
    change(namespace, event) {
      const store = stores?.get(namespace!);
      if (store) {
        if (event.type === 'delete') store.delete(event.object.metadata.name);
        else store.set(event.object.metadata.name, event.object);
      }
      options.onChange(event);
    },
    gone() {
      stores?.clear();
      if (synced) options.onSync([]);
    },
  };
}

/** What one informer's run works with. */
interface Run {
  options: InformerOptions;
  settings: typeof DEFAULTS;
  backoff: { initialDelayMs: number; maxDelayMs: number; random: () => number };
  namespaces: readonly string[] | undefined;
  signal: AbortSignal;
  /** Resolves once stopping. */
  stopped: Promise<void>;
  status: InformerStatus;
  consumer: Consumer;
}

/** Resolve the paths → watch every collection → until the kind is gone (then again) or the informer stops. */
async function runInformer(run: Run): Promise<void> {
  const { api, apiVersion, kind, log } = run.options;
  while (!run.signal.aborted) {
    run.status.set('resolving');
    const paths = await resolvePaths(run);
    if (!paths || run.signal.aborted) return;
    let gone!: () => void;
    const kindGone = new Promise<void>((resolve) => (gone = resolve));
    const watches = paths.map((path, position) => watchOne(run, path, run.namespaces?.[position], gone));
    run.status.watching(watches);
    run.status.set('running');
    await Promise.race([kindGone, run.stopped]);
    await Promise.all(watches.map((watch) => watch.stop()));
    run.status.watching([]);
    if (run.signal.aborted) return;
    // The CRD was deleted: its objects went with it.
    log.info('kind is no longer served: its objects are gone', { kind, apiVersion });
    api.forgetDiscovery(apiVersion);
    run.consumer.gone();
  }
}

function watchOne(run: Run, path: string, namespace: string | undefined, gone: () => void): CollectionWatch {
  const { api, apiVersion, kind, clock, log, fieldSelector, labelSelector } = run.options;
  const { settings } = run;
  return watchCollection({
    api, path, apiVersion, kind, label: `${kind} in ${namespace === undefined ? 'all namespaces' : namespace}`, clock, log, backoff: run.backoff,
    fieldSelector, labelSelector,
    pageSize: settings.pageSize, timeoutSeconds: settings.watchTimeoutSeconds, maxLineBytes: settings.maxLineBytes,
    onSync: (objects) => run.consumer.sync(namespace, objects),
    onChange: (event) => run.consumer.change(namespace, event),
    onState: run.status.changed,
    onGone: gone,
  });
}

/** The collection paths, once the kind is served: waits (re-checking) while it is not. */
async function resolvePaths(run: Run): Promise<string[] | undefined> {
  const { api, apiVersion, kind, clock, log } = run.options;
  let failures = 0;
  let absentSince: number | undefined;
  while (!run.signal.aborted) {
    try {
      const paths = await Promise.all((run.namespaces ?? [undefined]).map((namespace) => api.collectionPath(apiVersion, kind, namespace)));
      if (absentSince !== undefined) log.info('kind is served now: watching it', { kind, apiVersion });
      return paths;
    } catch (error) {
      if (run.signal.aborted) return undefined;
      const message = error instanceof Error ? error.message : String(error);
      let wait: number;
      if (error instanceof KubeError && error.status === 404) {
        // One line per absence, not one per re-check: an optional kind (Argo CD not installed) is normal.
        if (absentSince === undefined) log.info('kind not served (is its CRD installed?): skipped until it appears', { kind, apiVersion, recheckInMs: run.settings.kindRecheckMs });
        absentSince ??= clock.now();
        run.status.set('kind-absent', message);
        wait = run.settings.kindRecheckMs;
      } else {
        failures += 1;
        wait = backoffDelay({ ...run.backoff, maxAttempts: Number.POSITIVE_INFINITY }, failures, error instanceof KubeError ? error.retryAfterMs : undefined);
        log.warn('cannot look up a watched kind, retrying', { kind, apiVersion, error: message, retryInMs: wait });
        run.status.set('resolving', message);
      }
      await delay(clock, wait, run.signal);
      api.forgetDiscovery(apiVersion);
    }
  }
  return undefined;
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
