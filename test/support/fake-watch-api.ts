/**
 * An in-memory `KubeApi` serving one kind with list (paginated) and watch as kube-apiserver does, for unit tests
 * of watches driven by a manual clock: no sockets, every stream inspectable.
 *
 * - Objects carry increasing resourceVersions; a watch from version V replays every change after V, then
 *   streams live ones. A watch from a version older than `compact()` gets an ERROR event with code 410, as the
 *   real watch cache answers (HTTP 200, then the event).
 * - `served = false` makes discovery answer 404 (the CRD is absent); `forgotten` records forgetDiscovery calls.
 * - `failNext` queues errors for the next list, watch or discovery requests; `streams` are the watches opened, each with
 *   `cut()` (the server ends it), `fail(error)` (the connection breaks), `send(text)` (raw bytes) and `open`
 *   (false once ended or cancelled).
 *
 * @example
 * const api = fakeWatchApi({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', plural: 'gitrepositories' });
 * api.put({ metadata: { name: 'app', namespace: 'flux-system' }, spec: { url: 'https://github.com/org/app' } });
 */
import { KubeError, type KubeApi } from '../../src/kube/client.ts';

export interface FakeStream {
  path: string;
  query: URLSearchParams;
  namespace?: string;
  /** False once the server ended it, the client cancelled it, or its signal aborted. */
  open: boolean;
  /** Writes raw text to the stream (e.g. half a line, or a line without end). */
  send(text: string): void;
  /** The server ends the watch cleanly. */
  cut(): void;
  /** The connection breaks: the client's read fails with `error`. */
  fail(error: Error): void;
}

export interface FakeWatchApi extends KubeApi {
  served: boolean;
  /** Creates or replaces an object (namespace defaults to `default`); watches see ADDED or MODIFIED. */
  put(object: { metadata: { name: string; namespace?: string; [key: string]: unknown }; [key: string]: unknown }): void;
  /** Deletes an object; watches see DELETED. */
  remove(namespace: string, name: string): void;
  /** Forgets history up to now: a watch from an older version gets an ERROR event with code 410. */
  compact(): void;
  /** Sends a BOOKMARK at the current version to every open watch. */
  bookmark(): void;
  /** Errors for the next requests of that sort, in order; `null` lets one through. */
  failNext(what: 'list' | 'watch' | 'discovery', errors: (Error | null)[]): void;
  /** Paths (with query) of every list request. */
  lists: string[];
  streams: FakeStream[];
  forgotten: string[];
  openStreams(): number;
  resourceVersion(): number;
}

interface Stored {
  object: any;
  version: number;
}

interface Change {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: any;
  version: number;
  namespace: string;
}

export function fakeWatchApi(options: { apiVersion: string; kind: string; plural: string }): FakeWatchApi {
  const { apiVersion, kind, plural } = options;
  const root = `/apis/${apiVersion}`;
  const objects = new Map<string, Stored>();
  const history: Change[] = [];
  let version = 100;
  let compactedAt = 0;
  const failures = { list: [] as (Error | null)[], watch: [] as (Error | null)[], discovery: [] as (Error | null)[] };
  const live: { stream: FakeStream; deliver(change: { type: string; object: any }): void }[] = [];
  const encoder = new TextEncoder();
  const snapshots = new Map<string, { items: any[]; version: number }>();

  function parse(path: string): { namespace?: string; query: URLSearchParams } {
    const [base = '', search = ''] = path.split('?');
    const namespaced = new RegExp(`^${root}/namespaces/([^/]+)/${plural}$`).exec(base);
    if (!namespaced && base !== `${root}/${plural}`) throw new KubeError(`fake: no such path ${base}`, 'http', 404);
    return { namespace: namespaced ? decodeURIComponent(namespaced[1]!) : undefined, query: new URLSearchParams(search) };
  }

  function record(type: Change['type'], object: any): void {
    version += 1;
    const namespace = object.metadata.namespace;
    const stamped = { apiVersion, kind, ...object, metadata: { ...object.metadata, resourceVersion: String(version), managedFields: [{ manager: 'fake' }] } };
    history.push({ type, object: stamped, version, namespace });
    if (type === 'DELETED') objects.delete(`${namespace}/${object.metadata.name}`);
    else objects.set(`${namespace}/${object.metadata.name}`, { object: stamped, version });
    for (const watcher of live) if (watcher.stream.open && (watcher.stream.namespace === undefined || watcher.stream.namespace === namespace)) watcher.deliver({ type, object: stamped });
  }

  const api: FakeWatchApi = {
    target: 'https://fake.invalid',
    served: true,
    lists: [],
    streams: [],
    forgotten: [],
    put(object) {
      const namespace = object.metadata.namespace ?? 'default';
      const exists = objects.has(`${namespace}/${object.metadata.name}`);
      record(exists ? 'MODIFIED' : 'ADDED', { ...object, metadata: { ...object.metadata, namespace } });
    },
    remove(namespace, name) {
      const stored = objects.get(`${namespace}/${name}`);
      if (stored) record('DELETED', stored.object);
    },
    compact() {
      compactedAt = version;
      history.length = 0;
    },
    bookmark() {
      for (const watcher of live) if (watcher.stream.open) watcher.deliver({ type: 'BOOKMARK', object: { apiVersion, kind, metadata: { resourceVersion: String(version) } } });
    },
    failNext(what, errors) {
      failures[what].push(...errors);
    },
    openStreams: () => api.streams.filter((stream) => stream.open).length,
    resourceVersion: () => version,

    async collectionPath(wantedVersion, wantedKind, namespace) {
      const failure = failures.discovery.shift();
      if (failure) throw failure;
      if (!api.served || wantedVersion !== apiVersion || wantedKind !== kind) throw new KubeError(`${wantedVersion} is not served by ${api.target} (is its CRD installed?)`, 'http', 404);
      return namespace === undefined ? `${root}/${plural}` : `${root}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
    },
    forgetDiscovery(forgotten) {
      api.forgotten.push(forgotten);
    },

    async request(method, path, init) {
      await Promise.resolve();
      if (init.signal?.aborted) throw init.signal.reason;
      if (method !== 'GET') throw new KubeError(`fake: ${method} not supported`, 'http', 405);
      api.lists.push(path);
      const failure = failures.list.shift();
      if (failure) throw failure;
      if (!api.served) throw new KubeError(`${api.target} answered 404 NotFound to GET ${path}`, 'http', 404);
      const { namespace, query } = parse(path);
      const limit = Number(query.get('limit') ?? '0') || Number.POSITIVE_INFINITY;
      const token = query.get('continue');
      let snapshot: { items: any[]; version: number };
      let offset = 0;
      if (token) {
        const found = snapshots.get(token);
        if (!found) throw new KubeError(`${api.target} answered 410 Expired to GET ${path}: continue token expired`, 'http', 410);
        snapshot = found;
        offset = Number(token.split(':')[1]);
      } else {
        const items = [...objects.values()].filter((stored) => namespace === undefined || stored.object.metadata.namespace === namespace).map((stored) => stored.object);
        items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
        snapshot = { items, version };
      }
      const page = snapshot.items.slice(offset, offset + limit);
      const next = offset + limit < snapshot.items.length ? `${snapshots.size + 1}:${offset + limit}` : undefined;
      if (next) snapshots.set(next, snapshot);
      // List items carry no apiVersion/kind, as for many real lists.
      const items = page.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
      return { apiVersion, kind: `${kind}List`, metadata: { resourceVersion: String(snapshot.version), ...(next ? { continue: next } : {}) }, items };
    },

    async stream(path, signal) {
      await Promise.resolve();
      if (signal.aborted) throw signal.reason;
      const failure = failures.watch.shift();
      if (failure) throw failure;
      if (!api.served) throw new KubeError(`${api.target} answered 404 NotFound to GET ${path}`, 'http', 404);
      const { namespace, query } = parse(path);
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const stream: FakeStream = {
        path,
        query,
        namespace,
        open: true,
        send(text) {
          if (stream.open) controller.enqueue(encoder.encode(text));
        },
        cut() {
          if (!stream.open) return;
          stream.open = false;
          controller.close();
        },
        fail(error) {
          if (!stream.open) return;
          stream.open = false;
          controller.error(error);
        },
      };
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
        },
        cancel() {
          stream.open = false;
        },
      });
      signal.addEventListener('abort', () => {
        if (!stream.open) return;
        stream.open = false;
        controller.error(signal.reason);
      }, { once: true });
      api.streams.push(stream);
      const deliver = (change: { type: string; object: any }) => stream.send(`${JSON.stringify(change)}\n`);
      const from = Number(query.get('resourceVersion') ?? '0');
      if (from < compactedAt) {
        deliver({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `too old resource version: ${from} (${compactedAt})`, reason: 'Expired', code: 410 } });
        stream.cut();
      } else {
        for (const change of history) if (change.version > from && (namespace === undefined || change.namespace === namespace)) deliver({ type: change.type, object: change.object });
        live.push({ stream, deliver });
      }
      return new Response(body, { status: 200 });
    },
  };
  return api;
}

/**
 * One API serving several fake kinds (each a fakeWatchApi), as one cluster serves Flux's and Argo CD's kinds; a
 * kind none of them serves is absent (discovery answers 404).
 */
export function fakeClusterApi(kinds: readonly FakeWatchApi[], specs: readonly { apiVersion: string; kind: string; plural: string }[]): KubeApi {
  const byPath = (path: string) => {
    const index = specs.findIndex((spec) => path.startsWith(`/apis/${spec.apiVersion}/`) && new RegExp(`/${spec.plural}(\\?|$)`).test(path));
    if (index < 0) throw new KubeError(`fake: no kind serves ${path}`, 'http', 404);
    return kinds[index]!;
  };
  return {
    target: 'https://fake.invalid',
    async collectionPath(apiVersion, kind, namespace) {
      const index = specs.findIndex((spec) => spec.apiVersion === apiVersion && spec.kind === kind);
      if (index < 0) throw new KubeError(`kind ${kind} not served by ${apiVersion}`, 'http', 404);
      return kinds[index]!.collectionPath(apiVersion, kind, namespace);
    },
    forgetDiscovery(apiVersion) {
      for (const api of kinds) api.forgetDiscovery(apiVersion);
    },
    request: (method, path, init) => byPath(path).request(method, path, init),
    stream: (path, signal) => byPath(path).stream(path, signal),
  };
}
