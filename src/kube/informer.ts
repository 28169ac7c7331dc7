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
  const { api, apiVersion, kind, clock, log } = options;
  const settings = { ...DEFAULTS, ...options.backoff, ...definedOnly({ kindRecheckMs: options.kindRecheckMs, watchTimeoutSeconds: options.watchTimeoutSeconds, pageSize: options.pageSize, maxLineBytes: options.maxLineBytes }) };
  const backoff = { initialDelayMs: settings.initialMs, maxDelayMs: settings.maxMs, random: options.random ?? Math.random };
  const namespaces = options.namespaces === undefined ? undefined : [...new Set(options.namespaces)];
  const where = (namespace?: string) => `${kind} in ${namespace === undefined ? 'all namespaces' : namespace}`;
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  let phase: 'starting' | 'kind-absent' | 'resolving' | 'running' | 'stopped' = 'starting';
  let resolveProblem: string | undefined;
  let collections: { namespace?: string; watch: CollectionWatch }[] = [];
  let running: Promise<void> | undefined;
  let synced = false;
  let reported: WatchState | undefined;

  // With several namespaces each re-lists on its own, yet onSync hands over everything: their objects are kept.
  const stores = namespaces !== undefined && namespaces.length > 1 ? new Map<string, Map<string, WatchedObject>>() : undefined;

  function state(): WatchState {
    if (phase === 'stopped' || phase === 'starting' || phase === 'kind-absent') return phase;
    if (phase === 'resolving') return resolveProblem === undefined ? 'starting' : 'backing-off';
    const states = new Set(collections.map((collection) => collection.watch.state()));
    return SEVERITY.find((candidate) => states.has(candidate)) ?? 'starting';
  }

  function changed(): void {
    const now = state();
    if (now !== reported) {
      reported = now;
      options.onState?.(now);
    }
  }

  function sync(namespace: string | undefined, objects: WatchedObject[]): void {
    synced = true;
    if (!stores) return options.onSync(objects);
    stores.set(namespace!, new Map(objects.map((object) => [object.metadata.name, object])));
    options.onSync([...stores.values()].flatMap((store) => [...store.values()]));
  }

  function change(namespace: string | undefined, event: { type: 'upsert' | 'delete'; object: WatchedObject }): void {
    const store = stores?.get(namespace!);
    if (store) {
      if (event.type === 'delete') store.delete(event.object.metadata.name);
      else store.set(event.object.metadata.name, event.object);
    }
    options.onChange(event);
  }

  /** The collection paths, once the kind is served: waits (re-checking) while it is not. */
  async function resolvePaths(): Promise<string[] | undefined> {
    let failures = 0;
    let absentSince: number | undefined;
    while (!stopping.signal.aborted) {
      try {
        const paths = await Promise.all((namespaces ?? [undefined]).map((namespace) => api.collectionPath(apiVersion, kind, namespace)));
        if (absentSince !== undefined) log.info('kind is served now: watching it', { kind, apiVersion });
        return paths;
      } catch (error) {
        if (stopping.signal.aborted) return undefined;
        const message = error instanceof Error ? error.message : String(error);
        let wait: number;
        if (error instanceof KubeError && error.status === 404) {
          // One line per absence, not one per re-check: an optional kind (Argo CD not installed) is normal.
          if (absentSince === undefined) log.info('kind not served (is its CRD installed?): skipped until it appears', { kind, apiVersion, recheckInMs: settings.kindRecheckMs });
          absentSince ??= clock.now();
          phase = 'kind-absent';
          resolveProblem = message;
          wait = settings.kindRecheckMs;
        } else {
          failures += 1;
          phase = 'resolving';
          resolveProblem = message;
          wait = backoffDelay({ ...backoff, maxAttempts: Number.POSITIVE_INFINITY }, failures, error instanceof KubeError ? error.retryAfterMs : undefined);
          log.warn('cannot look up a watched kind, retrying', { kind, apiVersion, error: message, retryInMs: wait });
        }
        changed();
        await delay(clock, wait, stopping.signal);
        api.forgetDiscovery(apiVersion);
      }
    }
    return undefined;
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      phase = 'resolving';
      resolveProblem = undefined;
      changed();
      const paths = await resolvePaths();
      if (!paths || stopping.signal.aborted) return;
      let gone!: () => void;
      const kindGone = new Promise<void>((resolve) => (gone = resolve));
      collections = paths.map((path, position) => {
        const namespace = namespaces?.[position];
        return {
          namespace,
          watch: watchCollection({
            api, path, apiVersion, kind, label: where(namespace), clock, log, backoff,
            fieldSelector: options.fieldSelector, labelSelector: options.labelSelector,
            pageSize: settings.pageSize, timeoutSeconds: settings.watchTimeoutSeconds, maxLineBytes: settings.maxLineBytes,
            onSync: (objects) => sync(namespace, objects),
            onChange: (event) => change(namespace, event),
            onState: changed,
            onGone: gone,
          }),
        };
      });
      phase = 'running';
      changed();
      await Promise.race([kindGone, stopped]);
      const ending = collections;
      await Promise.all(ending.map((collection) => collection.watch.stop()));
      collections = [];
      if (stopping.signal.aborted) return;
      // The CRD was deleted: its objects went with it.
      log.info('kind is no longer served: its objects are gone', { kind, apiVersion });
      api.forgetDiscovery(apiVersion);
      stores?.clear();
      if (synced) options.onSync([]);
    }
  }

  return {
    start() {
      if (running || stopping.signal.aborted) return;
      running = run().finally(() => {
        phase = 'stopped';
        changed();
      });
    },
    async stop() {
      stopping.abort(new Error('informer stopped'));
      await running;
      phase = 'stopped';
      changed();
    },
    state,
    problem() {
      const now = state();
      if (now === 'watching') return undefined;
      if (now === 'stopped') return 'stopped';
      if (phase !== 'running') return resolveProblem;
      const problems = collections.map((collection) => collection.watch.problem()).filter((text): text is string => text !== undefined);
      if (problems.length === 0) return undefined;
      return problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more)`;
    },
  };
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
