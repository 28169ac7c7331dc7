/**
 * One cluster as following sees it: the status of every watched object of the followed kinds (object-status.ts),
 * and which objects apply which source, kept by one informer per kind — taken from the pool, so a kind discovery
 * watches too is listed and watched once. Nothing polls: every change of a watched object is told to `changed`.
 */
import type { Clock, Logger } from '../core/index.ts';
import type { Informer, InformerOptions, KubeApi, WatchedObject, WatchState } from '../kube/index.ts';
import { sourceKey, statusOf, type ObjectStatus } from './object-status.ts';

export interface ObjectName {
  kind: string;
  namespace: string;
  name: string;
}

export interface ClusterView {
  /** The object's status as last seen; undefined when it was not seen. */
  status(kind: string, namespace: string, name: string): ObjectStatus | undefined;
  /** Why an object of this kind in this namespace cannot be followed here (not watched, kind not served), or undefined. */
  unwatched(kind: string, namespace: string): string | undefined;
  /** The objects (Kustomizations, HelmReleases) that apply the source with this key. */
  dependants(source: string): ObjectName[];
  /** Objects held, for measurements. */
  size(): number;
  start(): void;
  stop(): Promise<void>;
}

export interface ClusterViewOptions {
  api: KubeApi;
  /** For log lines; undefined with the single `kubernetes:` connection. */
  cluster?: string;
  kinds: readonly { apiVersion: string; kind: string }[];
  /** undefined: all namespaces. */
  namespaces?: readonly string[];
  /** Where informers come from (the pool shared with discovery). */
  informers: (options: InformerOptions) => Informer;
  informer?: Pick<InformerOptions, 'backoff' | 'random' | 'kindRecheckMs' | 'watchTimeoutSeconds' | 'pageSize' | 'maxLineBytes'>;
  clock: Clock;
  log: Logger;
  /** An object's status may have changed (each object of a sync is told too). */
  changed(object: ObjectName): void;
}

interface KindWatch {
  informer: Informer;
  state: WatchState;
  statuses: Map<string, ObjectStatus>;
}

/**
 * @example
 * const view = createClusterView({ api, kinds: followedKinds(config), namespaces: ['flux-system'], informers: pool.informer, clock, log, changed });
 * view.start(); pool.start();
 * view.dependants('GitRepository/flux-system/app'); // [{ kind: 'Kustomization', namespace: 'flux-system', name: 'apps' }]
 */
export function createClusterView(options: ClusterViewOptions): ClusterView {
  const watches = new Map<string, KindWatch>();
  // source key → `kind/namespace/name` of what applies it
  const bySource = new Map<string, Set<string>>();
  const covered = options.namespaces ? new Set(options.namespaces) : undefined;
  for (const { apiVersion, kind } of options.kinds) watches.set(kind, kindWatch(options, apiVersion, kind, bySource));
  return {
    status: (kind, namespace, name) => watches.get(kind)?.statuses.get(`${namespace}/${name}`),
    unwatched(kind, namespace) {
      const watch = watches.get(kind);
      if (!watch) return `${kind} is not a followed kind`;
      if (covered && !covered.has(namespace)) return `namespace ${namespace} is not watched (feedback.namespaces)`;
      if (watch.state === 'kind-absent') return `${kind} is not served by this cluster`;
      return undefined;
    },
    dependants(source) {
      return [...(bySource.get(source) ?? [])].map((id) => {
        const [kind, namespace, name] = id.split('/') as [string, string, string];
        return { kind, namespace, name };
      });
    },
    size: () => [...watches.values()].reduce((total, watch) => total + watch.statuses.size, 0),
    start() {
      for (const watch of watches.values()) watch.informer.start();
    },
    async stop() {
      await Promise.all([...watches.values()].map((watch) => watch.informer.stop()));
    },
  };
}

function kindWatch(options: ClusterViewOptions, apiVersion: string, kind: string, bySource: Map<string, Set<string>>): KindWatch {
  const statuses = new Map<string, ObjectStatus>();
  const watch: KindWatch = { state: 'starting', statuses, informer: undefined as unknown as Informer };
  const file = (id: string, status: ObjectStatus | undefined, add: boolean) => {
    if (status?.source === undefined) return;
    const users = bySource.get(status.source) ?? new Set<string>();
    if (add) bySource.set(status.source, users.add(`${kind}/${id}`));
    else if (users.delete(`${kind}/${id}`) && users.size === 0) bySource.delete(status.source);
  };
  const put = (object: WatchedObject) => {
    const namespace = object.metadata.namespace ?? '';
    const id = `${namespace}/${object.metadata.name}`;
    file(id, statuses.get(id), false);
    const status = statusOf(object);
    statuses.set(id, status);
    file(id, status, true);
    options.changed({ kind, namespace, name: object.metadata.name });
  };
  const log = options.cluster === undefined ? options.log : withCluster(options.log, options.cluster);
  watch.informer = options.informers({
    ...options.informer,
    api: options.api,
    apiVersion,
    kind,
    ...(options.namespaces ? { namespaces: options.namespaces } : {}),
    clock: options.clock,
    log,
    onSync(objects) {
      for (const [id, status] of statuses) file(id, status, false);
      statuses.clear();
      for (const object of objects) put(object);
    },
    onChange({ type, object }) {
      if (type === 'upsert') return put(object);
      const id = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
      file(id, statuses.get(id), false);
      statuses.delete(id);
    },
    onState(state) {
      watch.state = state;
    },
  });
  return watch;
}

/** The same logger with `cluster` on every line. */
function withCluster(log: Logger, cluster: string): Logger {
  const add = (write: Logger['info']): Logger['info'] => (message, fields) => write(message, { cluster, ...fields });
  return { debug: add(log.debug), info: add(log.info), warn: add(log.warn), error: add(log.error), flush: () => log.flush() };
}

export { sourceKey };
