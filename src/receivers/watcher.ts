/**
 * Serves the cluster's Flux Receivers live: watches Receiver objects (an informer), reads the Secrets they name
 * (secret-reader.ts), turns each into a provider at its hashed path (receiver-runtime.ts) and replaces the route
 * table's `receivers` source whenever the set changes. A path the config file already serves stays the config's:
 * the collision is logged once and shown, never a crash. With `writeStatus`, each Receiver's status says what
 * fluxgate makes of it (status-writer.ts).
 *
 * Secrets are read, never watched: when a Receiver appears or its spec changes, and every `secretRefreshMs` for
 * all of them, so a rotated token moves the path within one interval. `stop()` ends the watch, the timer and the
 * reads in flight, and leaves the routes as they are until the next watcher (after a reload) replaces them.
 */
import type { Catalog } from '../provider-kit/index.ts';
import type { RouteConflict, RouteTable } from '../pipeline/index.ts';
import type { Logger } from '../core/index.ts';
import type { Clock } from '../core/index.ts';
import type { KubeApi } from '../kube/index.ts';
import type { MissingPermission } from '../kube/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Informer, InformerOptions } from '../kube/index.ts';
import type { CelEvaluator } from './cel-evaluator.ts';
import { compileOnce, createFilterCompiler, type FilterCompiler } from './cel-filter.ts';
import { desiredStatus, keyOf, sameSpec, secretKey, viewOf, type Entry, type ReceiverView } from './receiver-entry.ts';
import { RECEIVER_API_VERSION, RECEIVER_KIND, readReceiver, type ReceiverObject, type ReceiverSpec } from './receiver-spec.ts';
import { receiverProviderName, receiverServing } from './receiver-runtime.ts';
import { createSecretReader, type SecretReader } from './secret-reader.ts';
import { statusPatch, writeStatus } from './status-writer.ts';
import { shortPath } from './webhook-path.ts';

export type { ReceiverView } from './receiver-entry.ts';

export interface FluxReceiversOptions {
  api: KubeApi;
  catalog: Catalog;
  routes: Pick<RouteTable, 'replace'>;
  /** Watch only these namespaces (default: all). */
  namespaces?: readonly string[];
  writeStatus: boolean;
  /** False: a Receiver naming a resource in another namespace is refused (Flux's --no-cross-namespace-refs). */
  crossNamespaceRefs?: boolean;
  /** Receivers' deliveries read as fluxgate's providers read them, unless a Receiver's annotation says otherwise. */
  strict?: boolean;
  /** How often every named Secret is read again. */
  secretRefreshMs: number;
  clock: Clock;
  log: Logger;
  /** src/kube/informer.ts's createInformer (tests hand in a fake). */
  createInformer(options: InformerOptions): Informer;
  filters?: FilterCompiler;
  /** Where the Receivers' CEL runs (cel-evaluator.ts); the caller owns it and closes it. */
  evaluator: CelEvaluator;
  /** With `clusters:`, the name of the cluster `api` reaches: the Receivers' resources are patched there only. */
  cluster?: string;
  /**
   * What fluxgate's credentials may not do to these selectors (permission-check.ts): asked once per Receiver
   * generation, so a Receiver naming a kind the ClusterRole leaves out says so before a push finds a 403.
   */
  missingPermissions?(selectors: readonly ObjectSelector[]): Promise<MissingPermission[]>;
}

export interface FluxReceivers {
  start(): void;
  /** Ends the watch, the refresh timer and the reads in flight; the routes stay until replaced. */
  stop(): Promise<void>;
  /** Every Receiver seen, by namespace and name. */
  list(): ReceiverView[];
  /** Why Receivers are not being watched, when they are not (no CRD, no permission, API server down). */
  problem(): string | undefined;
}

/** Secret reads in flight at most during a refresh. */
const SECRET_READS_AT_ONCE = 8;

/**
 * @example
 * const receivers = watchFluxReceivers({ api: client.api, catalog, routes, writeStatus: false, secretRefreshMs: 60_000, clock, log, createInformer, evaluator });
 * receivers.start();
 * receivers.list(); // [{ namespace: 'flux-system', name: 'github', type: 'github', ready: true, reason: 'served by fluxgate', suspended: false, path: '/hook/5ad6c3…' }]
 * await receivers.stop();
 */
export function watchFluxReceivers(options: FluxReceiversOptions): FluxReceivers {
  const { clock } = options;
  const entries = new Map<string, Entry>();
  const work = backgroundWork();
  const context: ApplyContext = {
    options,
    filters: options.filters ?? createFilterCompiler(),
    secrets: createSecretReader(options.api, (message, fields) => options.log.warn(message, fields)),
    work,
    logConflicts: conflictLogger(options.log),
  };
  let synced = false;
  let timer: unknown;

  const read = (keys: Iterable<string>) => readSecrets(entries, keys, context.secrets, work.signal);
  const apply = () => {
    if (!work.signal.aborted && synced) applyEntries(entries, context);
  };
  /** Reads the Secrets of these entries, then brings routes (and statuses) up to date. */
  const refresh = (keys: Iterable<string>) => {
    if (!work.signal.aborted) void work.track(read(keys).then(apply));
  };
  const upsert = (object: ReceiverObject) => upsertEntry(entries, object, options.crossNamespaceRefs ?? true);
  const scheduleRefresh = (): void => {
    timer = clock.setTimer(() => {
      if (work.signal.aborted) return;
      // Statuses that could not be written are tried again with the Secrets.
      for (const entry of entries.values()) entry.statusSent = undefined;
      refresh(entries.keys());
      scheduleRefresh();
    }, options.secretRefreshMs);
  };

  const informer = options.createInformer({
    ...receiverWatch(options),
    onSync(objects) {
      const seen = new Set(objects.map(upsert));
      for (const key of entries.keys()) if (!seen.has(key)) entries.delete(key);
      // Routes change only once every named Secret has been read: a restart never drops a route in between.
      void work.track(
        read([...entries.keys()]).then(() => {
          synced = true;
          apply();
        }),
      );
    },
    onChange({ type, object }) {
      if (type === 'delete') {
        entries.delete(keyOf(object));
        apply();
        return;
      }
      const unchanged = sameSpec(entries.get(keyOf(object)), object);
      const key = upsert(object);
      // A new or changed Receiver reads its Secret again; a status change alone needs nothing read.
      if (unchanged) apply();
      else refresh([key]);
    },
  });

  return {
    start() {
      informer.start();
      scheduleRefresh();
    },
    async stop() {
      work.abort();
      clock.clearTimer(timer);
      await informer.stop();
      await work.settled();
    },
    list: () => [...entries.values()].map(viewOf).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
    problem: () => informer.problem(),
  };
}

/** What the informer of Receiver objects watches, and where. */
function receiverWatch(options: FluxReceiversOptions): Omit<InformerOptions, 'onSync' | 'onChange'> {
  const { api, clock, log } = options;
  return { api, apiVersion: RECEIVER_API_VERSION, kind: RECEIVER_KIND, ...(options.namespaces ? { namespaces: options.namespaces } : {}), clock, log };
}

/** Records the Receiver as the watch shows it now, read again only when its spec changed; returns its key. */
function upsertEntry(entries: Map<string, Entry>, object: ReceiverObject, crossNamespaceRefs: boolean): string {
  const key = keyOf(object);
  const before = entries.get(key);
  const read = sameSpec(before, object) ? before!.read : readReceiver(object, { crossNamespaceRefs });
  entries.set(key, { ...before, object, read });
  return key;
}

/** The work a watcher starts in the background (reads, writes, checks): aborted together, and waited for, at stop. */
interface BackgroundWork {
  /** Aborted once stopping: nothing new starts, and what runs ends. */
  signal: AbortSignal;
  track<T>(promise: Promise<T>): Promise<T>;
  abort(): void;
  /** Resolves once everything tracked has ended. */
  settled(): Promise<unknown>;
}

function backgroundWork(): BackgroundWork {
  const stopping = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  return {
    signal: stopping.signal,
    track(promise) {
      inFlight.add(promise);
      void promise.finally(() => inFlight.delete(promise));
      return promise;
    },
    abort: () => stopping.abort(),
    settled: () => Promise.allSettled([...inFlight]),
  };
}

/** What bringing the routes and statuses up to date needs besides the entries. */
interface ApplyContext {
  options: FluxReceiversOptions;
  filters: FilterCompiler;
  secrets: SecretReader;
  work: BackgroundWork;
  logConflicts(conflicts: readonly RouteConflict[]): void;
}

/** Reads the Secrets these entries name, a few at a time (a refresh of many Receivers is no burst of GETs). */
async function readSecrets(entries: ReadonlyMap<string, Entry>, keys: Iterable<string>, secrets: SecretReader, signal: AbortSignal): Promise<void> {
  const named = new Map<string, ReceiverSpec>();
  for (const key of keys) {
    const read = entries.get(key)?.read;
    if (read && 'spec' in read && read.spec.secretName !== undefined) named.set(secretKey(read.spec)!, read.spec);
  }
  const queue = [...named.values()];
  const worker = async () => {
    for (let spec = queue.shift(); spec !== undefined && !signal.aborted; spec = queue.shift()) await secrets.read(spec.namespace, spec.secretName!, signal);
  };
  await Promise.all(Array.from({ length: Math.min(SECRET_READS_AT_ONCE, queue.length) }, worker));
}

/** Makes each Receiver's provider from its spec and Secret, replaces the `receivers` routes, then logs and writes statuses. */
function applyEntries(entries: ReadonlyMap<string, Entry>, context: ApplyContext): void {
  const { options } = context;
  const runtimes = [];
  const referenced = new Set<string>();
  for (const entry of entries.values()) {
    if (!('spec' in entry.read)) {
      entry.serving = undefined;
      continue;
    }
    const { spec } = entry.read;
    const secretName = secretKey(spec);
    if (secretName !== undefined) referenced.add(secretName);
    serve(entry, spec, context);
    if (entry.serving?.path !== undefined) runtimes.push(entry.serving.runtime);
    if (entry.serving?.ready && !spec.suspend && entry.permissions?.spec !== spec) checkPermissions(entry, spec, context);
  }
  context.secrets.retain(referenced);
  const conflicts = options.routes.replace('receivers', runtimes);
  const refused = new Map(conflicts.filter((conflict) => conflict.refused.source === 'receivers').map((conflict) => [conflict.refused.provider, conflict.kept.provider]));
  context.logConflicts(conflicts);
  for (const [key, entry] of entries) {
    const { namespace = 'default', name } = entry.object.metadata;
    entry.conflict = refused.get(receiverProviderName(namespace, name));
    logChange(key, entry, options.log);
    if (options.writeStatus) sendStatus(entry, context);
  }
}

/** Makes the entry's provider again when its spec or its Secret changed (its CEL compiled once per generation). */
function serve(entry: Entry, spec: ReceiverSpec, context: ApplyContext): void {
  const { options } = context;
  const secret = spec.secretName === undefined ? undefined : context.secrets.state(spec.namespace, spec.secretName);
  if (entry.servedFrom?.spec === spec && entry.servedFrom.secret === secret) return;
  if (entry.compiler?.spec !== spec) entry.compiler = { spec, filters: compileOnce(context.filters) };
  entry.serving = receiverServing({ spec, secret, catalog: options.catalog, filters: entry.compiler.filters, evaluator: options.evaluator, strict: options.strict ?? false, ...(options.cluster !== undefined ? { cluster: options.cluster } : {}) });
  entry.servedFrom = { spec, secret };
}

/** Logs each path conflict once while it lasts; one that ended is logged again if it comes back. */
function conflictLogger(log: Logger): (conflicts: readonly RouteConflict[]) => void {
  const reported = new Set<string>();
  return (conflicts) => {
    const current = new Set<string>();
    for (const conflict of conflicts) {
      const id = `${conflict.route}|${conflict.kept.source}:${conflict.kept.provider}|${conflict.refused.provider}`;
      current.add(id);
      if (reported.has(id)) continue;
      reported.add(id);
      log.error('a Receiver is not served: its path is already served by another provider, which keeps it', { receiver: conflict.refused.provider, keptBy: conflict.kept.provider, path: shortPath(conflict.route) });
    }
    for (const id of reported) if (!current.has(id)) reported.delete(id);
  };
}

/** Logs what changed in how a Receiver is served, once per change. */
function logChange(key: string, entry: Entry, log: Logger): void {
  const view: ReceiverView = viewOf(entry);
  const line = JSON.stringify(view);
  if (entry.logged === line) return;
  entry.logged = line;
  const fields = { receiver: key, type: view.type, path: view.path };
  if (view.ready && !view.suspended) log.info('Receiver served', fields);
  else if (view.suspended) log.info('Receiver suspended: its path answers 503', fields);
  else log.warn('Receiver not ready', { ...fields, reason: view.reason });
}

/** Writes the Receiver's status when it differs from what was last sent; a failed write is tried at the next refresh. */
function sendStatus(entry: Entry, context: ApplyContext): void {
  const { api, clock, log } = context.options;
  const desired = desiredStatus(entry);
  if (desired === undefined) return;
  const patch = statusPatch(entry.object.status, desired, new Date(clock.now()));
  const sent = JSON.stringify(desired);
  if (patch === undefined || entry.statusSent === sent) return;
  entry.statusSent = sent;
  const { name, namespace = 'default' } = entry.object.metadata;
  const { signal } = context.work;
  void context.work.track(
    writeStatus(api, namespace, name, patch, signal).catch((error: unknown) => {
      if (signal.aborted) return;
      entry.statusSent = undefined; // tried again at the next refresh
      log.warn('could not write a Receiver status', { receiver: `${namespace}/${name}`, error: (error as Error).message });
    }),
  );
}

/** Asks once per generation what fluxgate may not do to the Receiver's resources; the view says it. */
function checkPermissions(entry: Entry, spec: ReceiverSpec, context: ApplyContext): void {
  const { log, missingPermissions: ask } = context.options;
  const serving = entry.serving;
  const selectors = serving?.path !== undefined ? serving.runtime.targets.all.flatMap((target) => target.selectors) : [];
  if (!ask || selectors.length === 0) return;
  entry.permissions = { spec, missing: undefined };
  void context.work.track(
    ask(selectors).then(
      (missing) => {
        if (context.work.signal.aborted || entry.permissions?.spec !== spec || missing.length === 0) return;
        const said = missing.map((gap) => `${gap.verb} ${gap.kind} in ${gap.namespace}`).join(', ');
        entry.permissions = { spec, missing: said };
        log.warn('Receiver served, but fluxgate may not reconcile all it names (reconcile requests for them will fail with 403)', { receiver: `${spec.namespace}/${spec.name}`, missing: said });
      },
      (error: Error) => log.debug('could not check the permissions a Receiver needs', { receiver: `${spec.namespace}/${spec.name}`, error: error.message }),
    ),
  );
}
