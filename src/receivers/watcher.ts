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
import { RECEIVER_API_VERSION, RECEIVER_KIND, readReceiver, type ReceiverObject, type ReceiverSpec } from './receiver-spec.ts';
import { receiverProviderName, receiverServing, type ReceiverServing, type SecretState } from './receiver-runtime.ts';
import { createSecretReader } from './secret-reader.ts';
import { statusPatch, writeStatus, type DesiredStatus } from './status-writer.ts';
import { shortPath } from './webhook-path.ts';

export interface FluxReceiversOptions {
  api: KubeApi;
  catalog: Catalog;
  routes: Pick<RouteTable, 'replace'>;
  /** Watch only these namespaces (default: all). */
  namespaces?: readonly string[];
  writeStatus: boolean;
  /** False: a Receiver naming a resource in another namespace is refused (Flux's --no-cross-namespace-refs). */
  crossNamespaceRefs?: boolean;
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

/** One Receiver as the status page shows it: never its token, its path shortened. */
/** A Receiver as fluxgate serves it: whether it is ready, why not, and its path. */
export interface ReceiverView {
  namespace: string;
  name: string;
  type?: string;
  ready: boolean;
  reason: string;
  suspended: boolean;
  path?: string;
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

interface Entry {
  object: ReceiverObject;
  read: { spec: ReceiverSpec } | { problem: string };
  serving?: ReceiverServing;
  /** What `serving` was made from, so it is made again only when one of them changed. */
  servedFrom?: { spec: ReceiverSpec; secret: SecretState | undefined };
  /** Compiles this generation's CEL once, however often its Secret changes. */
  compiler?: { spec: ReceiverSpec; filters: FilterCompiler };
  /** The path is the config file's: the provider that keeps it. */
  conflict?: string;
  /** What was logged last about it, so each change is logged once. */
  logged?: string;
  /** The status last sent, so it is not sent again before the watch shows it. */
  statusSent?: string;
  /** What fluxgate may not do to this generation's resources (`missingPermissions`), once known. */
  permissions?: { spec: ReceiverSpec; missing: string | undefined };
}

/** Secret reads in flight at most during a refresh. */
const SECRET_READS_AT_ONCE = 8;

const keyOf = (object: ReceiverObject) => `${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
const secretKey = (spec: ReceiverSpec) => (spec.secretName === undefined ? undefined : `${spec.namespace}/${spec.secretName}`);

/** Whether two reads of a Receiver are the same spec (a status write changes neither generation nor spec). */
function sameSpec(before: Entry | undefined, object: ReceiverObject): boolean {
  if (!before) return false;
  const [a, b] = [before.object.metadata.generation, object.metadata.generation];
  return a !== undefined && b !== undefined ? a === b : JSON.stringify(before.object.spec) === JSON.stringify(object.spec);
}

/**
 * @example
 * const receivers = watchFluxReceivers({ api: client.api, catalog, routes, writeStatus: false, secretRefreshMs: 60_000, clock, log, createInformer, evaluator });
 * receivers.start();
 * receivers.list(); // [{ namespace: 'flux-system', name: 'github', type: 'github', ready: true, reason: 'served by fluxgate', suspended: false, path: '/hook/5ad6c3…' }]
 * await receivers.stop();
 */
export function watchFluxReceivers(options: FluxReceiversOptions): FluxReceivers {
  const { api, catalog, routes, clock, log } = options;
  const filters = options.filters ?? createFilterCompiler();
  const entries = new Map<string, Entry>();
  const stopping = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const reportedConflicts = new Set<string>();
  const secrets = createSecretReader(api, (message, fields) => log.warn(message, fields));
  let synced = false;
  let timer: unknown;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
    return promise;
  };

  /** Reads the Secrets these entries name, a few at a time (a refresh of many Receivers is no burst of GETs). */
  async function readSecrets(keys: Iterable<string>): Promise<void> {
    const named = new Map<string, ReceiverSpec>();
    for (const key of keys) {
      const read = entries.get(key)?.read;
      if (read && 'spec' in read && read.spec.secretName !== undefined) named.set(secretKey(read.spec)!, read.spec);
    }
    const queue = [...named.values()];
    const worker = async () => {
      for (let spec = queue.shift(); spec !== undefined && !stopping.signal.aborted; spec = queue.shift()) await secrets.read(spec.namespace, spec.secretName!, stopping.signal);
    };
    await Promise.all(Array.from({ length: Math.min(SECRET_READS_AT_ONCE, queue.length) }, worker));
  }

  /** Reads the Secrets of these entries, then brings routes (and statuses) up to date. */
  function refresh(keys: Iterable<string>): void {
    if (stopping.signal.aborted) return;
    void track(readSecrets(keys).then(() => apply()));
  }

  function upsert(object: ReceiverObject): string {
    const key = keyOf(object);
    const before = entries.get(key);
    const read = sameSpec(before, object) ? before!.read : readReceiver(object, { crossNamespaceRefs: options.crossNamespaceRefs ?? true });
    entries.set(key, { ...before, object, read });
    return key;
  }

  function desiredStatus(entry: Entry): DesiredStatus | undefined {
    if (!('spec' in entry.read)) return { webhookPath: '', ready: false, reason: 'ValidationFailed', message: entry.read.problem, generation: entry.object.metadata.generation };
    const { spec } = entry.read;
    const serving = entry.serving;
    // Flux leaves a suspended Receiver's status alone.
    if (serving === undefined || spec.suspend) return undefined;
    const base = { webhookPath: serving.path ?? '', generation: spec.generation };
    if (entry.conflict !== undefined) return { ...base, ready: false, reason: 'PathConflict', message: `the path is served by the config file's provider ${entry.conflict}` };
    if (!serving.ready) return { ...base, ready: false, reason: serving.code, message: serving.reason };
    return { ...base, ready: true, reason: 'Succeeded', message: `Receiver served by fluxgate at ${shortPath(serving.path)}` };
  }

  function sendStatus(entry: Entry): void {
    const desired = desiredStatus(entry);
    if (desired === undefined) return;
    const patch = statusPatch(entry.object.status, desired, new Date(clock.now()));
    const sent = JSON.stringify(desired);
    if (patch === undefined || entry.statusSent === sent) return;
    entry.statusSent = sent;
    const { name, namespace = 'default' } = entry.object.metadata;
    void track(
      writeStatus(api, namespace, name, patch, stopping.signal).catch((error: unknown) => {
        if (stopping.signal.aborted) return;
        entry.statusSent = undefined; // tried again at the next refresh
        log.warn('could not write a Receiver status', { receiver: `${namespace}/${name}`, error: (error as Error).message });
      }),
    );
  }

  function logConflicts(conflicts: readonly RouteConflict[]): void {
    const current = new Set<string>();
    for (const conflict of conflicts) {
      const id = `${conflict.route}|${conflict.kept.source}:${conflict.kept.provider}|${conflict.refused.provider}`;
      current.add(id);
      if (reportedConflicts.has(id)) continue;
      reportedConflicts.add(id);
      log.error('a Receiver is not served: its path is already served by another provider, which keeps it', { receiver: conflict.refused.provider, keptBy: conflict.kept.provider, path: shortPath(conflict.route) });
    }
    // A conflict that ended is logged again if it comes back.
    for (const id of reportedConflicts) if (!current.has(id)) reportedConflicts.delete(id);
  }

  function logChange(key: string, entry: Entry): void {
    const view = viewOf(entry);
    const line = JSON.stringify(view);
    if (entry.logged === line) return;
    entry.logged = line;
    const fields = { receiver: key, type: view.type, path: view.path };
    if (view.ready && !view.suspended) log.info('Receiver served', fields);
    else if (view.suspended) log.info('Receiver suspended: its path answers 503', fields);
    else log.warn('Receiver not ready', { ...fields, reason: view.reason });
  }

  function apply(): void {
    if (stopping.signal.aborted || !synced) return;
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
      const secret = spec.secretName === undefined ? undefined : secrets.state(spec.namespace, spec.secretName);
      if (entry.servedFrom?.spec !== spec || entry.servedFrom.secret !== secret) {
        if (entry.compiler?.spec !== spec) entry.compiler = { spec, filters: compileOnce(filters) };
        entry.serving = receiverServing({ spec, secret, catalog, filters: entry.compiler.filters, evaluator: options.evaluator, ...(options.cluster !== undefined ? { cluster: options.cluster } : {}) });
        entry.servedFrom = { spec, secret };
      }
      if (entry.serving?.path !== undefined) runtimes.push(entry.serving.runtime);
      if (entry.serving?.ready && !spec.suspend && entry.permissions?.spec !== spec) checkPermissions(entry, spec);
    }
    secrets.retain(referenced);
    const conflicts = routes.replace('receivers', runtimes);
    const refused = new Map(conflicts.filter((conflict) => conflict.refused.source === 'receivers').map((conflict) => [conflict.refused.provider, conflict.kept.provider]));
    logConflicts(conflicts);
    for (const [key, entry] of entries) {
      const { namespace = 'default', name } = entry.object.metadata;
      entry.conflict = refused.get(receiverProviderName(namespace, name));
      logChange(key, entry);
      if (options.writeStatus) sendStatus(entry);
    }
  }

  /** Asks once per generation what fluxgate may not do to the Receiver's resources; the view says it. */
  function checkPermissions(entry: Entry, spec: ReceiverSpec): void {
    const ask = options.missingPermissions;
    const serving = entry.serving;
    const selectors = serving?.path !== undefined ? serving.runtime.targets.all.flatMap((target) => target.selectors) : [];
    if (!ask || selectors.length === 0) return;
    entry.permissions = { spec, missing: undefined };
    void track(
      ask(selectors).then(
        (missing) => {
          if (stopping.signal.aborted || entry.permissions?.spec !== spec || missing.length === 0) return;
          const said = missing.map((gap) => `${gap.verb} ${gap.kind} in ${gap.namespace}`).join(', ');
          entry.permissions = { spec, missing: said };
          log.warn('Receiver served, but fluxgate may not reconcile all it names (reconcile requests for them will fail with 403)', { receiver: `${spec.namespace}/${spec.name}`, missing: said });
        },
        (error: Error) => log.debug('could not check the permissions a Receiver needs', { receiver: `${spec.namespace}/${spec.name}`, error: error.message }),
      ),
    );
  }

  function viewOf(entry: Entry): ReceiverView {
    const { namespace = 'default', name } = entry.object.metadata;
    if (!('spec' in entry.read)) return { namespace, name, ready: false, reason: entry.read.problem, suspended: false };
    const { spec } = entry.read;
    const serving = entry.serving;
    const path = serving?.path !== undefined ? shortPath(serving.path) : undefined;
    const base = { namespace, name, type: spec.type, suspended: spec.suspend, ...(path !== undefined ? { path } : {}) };
    if (serving === undefined) return { ...base, ready: false, reason: 'waiting for its Secret' };
    if (entry.conflict !== undefined) return { ...base, ready: false, reason: `not served: the path is provider ${entry.conflict}'s (from the config file)` };
    const missing = entry.permissions?.spec === spec ? entry.permissions.missing : undefined;
    return { ...base, ready: serving.ready, reason: missing === undefined ? serving.reason : `${serving.reason}; fluxgate may not ${missing} (RBAC)` };
  }

  function scheduleRefresh(): void {
    timer = clock.setTimer(() => {
      if (stopping.signal.aborted) return;
      // Statuses that could not be written are tried again with the Secrets.
      for (const entry of entries.values()) entry.statusSent = undefined;
      refresh(entries.keys());
      scheduleRefresh();
    }, options.secretRefreshMs);
  }

  const informer = options.createInformer({
    api,
    apiVersion: RECEIVER_API_VERSION,
    kind: RECEIVER_KIND,
    ...(options.namespaces ? { namespaces: options.namespaces } : {}),
    clock,
    log,
    onSync(objects) {
      const seen = new Set(objects.map(upsert));
      for (const key of entries.keys()) if (!seen.has(key)) entries.delete(key);
      // Routes change only once every named Secret has been read: a restart never drops a route in between.
      void track(
        readSecrets([...entries.keys()]).then(() => {
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
      const key = keyOf(object);
      const before = entries.get(key);
      const unchanged = sameSpec(before, object);
      upsert(object);
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
      stopping.abort();
      clock.clearTimer(timer);
      await informer.stop();
      await Promise.allSettled([...inFlight]);
    },
    list: () => [...entries.values()].map(viewOf).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
    problem: () => informer.problem(),
  };
}
