/**
 * The API-server side of the benchmarks: the real kube-apiserver the test suite builds
 * (test/support/kube-apiserver), a fresh namespace, GitRepositories, a watch that timestamps annotation changes,
 * and raw keep-alive PATCHes (the baselines).
 *
 * "Patch acknowledged" is observed through the watch (one extra connection, not in fluxgate's path): the moment
 * this process reads the event that carries the new annotation value. Baselines are timed the same way, so the
 * watch's own delay is in both sides of every ratio.
 */
import { randomBytes } from 'node:crypto';
import { createRequestedAtClock } from '../src/core/kinds.ts';
import { resourcePath, startTestCluster, type TestCluster } from '../test/support/kube-apiserver/cluster.ts';

export const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';
export const GIT_REPOSITORY = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', plural: 'gitrepositories' } as const;

/**
 * Starts the API server once, makes a fresh namespace, runs `body`, and stops the API server afterwards, also
 * when `body` throws.
 */
export async function withCluster<T>(body: (cluster: TestCluster, namespace: string) => Promise<T>): Promise<T> {
  const cluster = await startTestCluster();
  try {
    const namespace = `bench-${randomBytes(4).toString('hex')}`;
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    return await body(cluster, namespace);
  } finally {
    await cluster.stop();
  }
}

/** Creates GitRepositories `names` in `namespace` (with `labels`), `parallel` at a time. */
export async function createGitRepositories(cluster: TestCluster, namespace: string, names: string[], labels: Record<string, string> = {}, parallel = 16): Promise<void> {
  const path = resourcePath(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, namespace);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const manifest = {
        apiVersion: GIT_REPOSITORY.apiVersion,
        kind: GIT_REPOSITORY.kind,
        metadata: { name, namespace, labels },
        spec: { url: `https://example.invalid/${name}.git`, interval: '10m', ref: { branch: 'main' } },
      };
      const created = await cluster.request('POST', path, manifest);
      if (created.status !== 201) throw new Error(`create ${name}: HTTP ${created.status} ${JSON.stringify(created.body).slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export interface Change {
  value: string;
  /** performance.now() when this process read the watch event. */
  at: number;
}

export interface AnnotationWatch {
  /** The next change of `name`'s annotation after this call (register before causing it); rejects after `timeoutMs`. */
  nextChange(name: string, timeoutMs?: number): Promise<Change>;
  /** Every value `name` was seen with since the watch started (not the one it had before). */
  history(name: string): Change[];
  stop(): void;
}

/**
 * Watches the objects of `type` (GitRepositories unless given) in `namespace` and timestamps each new value of
 * `annotation`; a removed annotation is forgotten, so the same value set again is a new change. Starts from a LIST's
 * resourceVersion, so nothing between the LIST and the watch is missed. When the watch ends or its connection
 * breaks (the API server ends watches after 30–60 minutes; a loaded one may reset them), it resumes where it left
 * off; when that point has expired (410), a fresh LIST picks up what changed meanwhile, timestamped late.
 */
export async function watchAnnotation(cluster: TestCluster, namespace: string, annotation = REQUESTED_AT, type: { apiVersion: string; plural: string } = GIT_REPOSITORY): Promise<AnnotationWatch> {
  const path = resourcePath(type.apiVersion, type.plural, namespace);
  const current = new Map<string, string | undefined>();
  const changes = new Map<string, Change[]>();
  const waiters = new Map<string, ((change: Change) => void)[]>();
  const abort = new AbortController();
  let resourceVersion = '';

  const seen = (object: any) => {
    const name: string = object.metadata.name;
    const value: string | undefined = object.metadata.annotations?.[annotation];
    if (value === undefined) current.delete(name);
    if (value === undefined || value === current.get(name)) return;
    current.set(name, value);
    const change = { value, at: performance.now() };
    (changes.get(name) ?? changes.set(name, []).get(name)!).push(change);
    for (const resolve of waiters.get(name)?.splice(0) ?? []) resolve(change);
  };
  const list = async (record: boolean) => {
    const listed = await cluster.request('GET', path);
    if (listed.status !== 200) throw new Error(`list ${path}: HTTP ${listed.status}`);
    for (const item of listed.body.items) {
      if (record) seen(item);
      else current.set(item.metadata.name, item.metadata.annotations?.[annotation]);
    }
    resourceVersion = listed.body.metadata.resourceVersion;
  };
  /** Follows one watch until it ends; false when its starting point has expired. */
  const watchOnce = async (): Promise<boolean> => {
    const query = `?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`;
    const response = await fetch(cluster.server + path + query, {
      headers: { Authorization: `Bearer ${cluster.adminToken}`, Accept: 'application/json' },
      tls: { ca: cluster.caPem },
      signal: abort.signal,
    });
    if (response.status === 410) return false;
    if (!response.ok || !response.body) throw new Error(`watch ${path}: HTTP ${response.status}`);
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (event.type === 'ERROR') {
          if (event.object?.code === 410) return false;
          throw new Error(`watch ${path}: ${event.object?.message}`);
        }
        resourceVersion = event.object.metadata.resourceVersion;
        if (event.type !== 'BOOKMARK') seen(event.object);
      }
    }
    return true;
  };

  await list(false);
  void (async () => {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        if (!(await watchOnce())) await list(true);
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted) return;
        if (++failures > 10) {
          console.error(`annotation watch failed: ${(error as Error).message}`);
          process.exitCode = 1;
          return;
        }
        console.error(`(the annotation watch broke and resumes: ${(error as Error).message})`);
        await Bun.sleep(100);
      }
    }
  })();

  return {
    nextChange: (name, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no new ${annotation} within ${timeoutMs} ms`)), timeoutMs);
        (waiters.get(name) ?? waiters.set(name, []).get(name)!).push((change) => {
          clearTimeout(timer);
          resolve(change);
        });
      }),
    history: (name) => changes.get(name) ?? [],
    stop: () => abort.abort(),
  };
}

/**
 * The baseline client: JSON merge patches of the annotation from this process, with Bun's keep-alive fetch, the
 * cluster's CA and the admin token (what fluxgate's own client sends, minus fluxgate).
 */
export function rawPatcher(cluster: TestCluster, namespace: string, annotation = REQUESTED_AT): (name: string) => Promise<void> {
  const requestedAt = createRequestedAtClock();
  const base = cluster.server + resourcePath(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, namespace);
  return async (name) => {
    const response = await fetch(`${base}/${name}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${cluster.adminToken}`, Accept: 'application/json', 'Content-Type': 'application/merge-patch+json', 'User-Agent': 'bench' },
      body: JSON.stringify({ metadata: { annotations: { [annotation]: requestedAt(new Date()) } } }),
      tls: { ca: cluster.caPem },
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`PATCH ${name}: HTTP ${response.status}`);
  };
}

/** The `kubernetes:` block of a config that patches the test cluster with its admin kubeconfig. */
export function kubeconfigBlock(cluster: TestCluster): string {
  return `kubernetes: { mode: kubeconfig, kubeconfig: ${JSON.stringify(cluster.kubeconfigPath)} }`;
}
