/**
 * One read of the kinds discovery watches, for `fluxgate explain --discovered`: a paginated LIST per kind and
 * namespace (all namespaces when none are configured), kept as watches keep them. A kind the cluster does not
 * serve is skipped, as discovery skips it.
 */
import { KubeError, type KubeApi } from '../kube/index.ts';
import { watchedObject, type WatchedObject } from '../kube/index.ts';

const PAGE = 500;

/**
 * @example
 * const objects = await listObjects(client.api, [{ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository' }], undefined);
 */
export async function listObjects(api: KubeApi, kinds: readonly { apiVersion: string; kind: string }[], namespaces: readonly string[] | undefined): Promise<WatchedObject[]> {
  const objects: WatchedObject[] = [];
  for (const { apiVersion, kind } of kinds) {
    for (const namespace of namespaces ?? [undefined]) {
      let path: string;
      try {
        path = await api.collectionPath(apiVersion, kind, namespace);
      } catch (error) {
        if (error instanceof KubeError && error.status === 404) break; // not served here: nothing to list
        throw error;
      }
      let next: string | undefined;
      do {
        const query = new URLSearchParams({ limit: String(PAGE), ...(next ? { continue: next } : {}) });
        const page = await api.request('GET', `${path}?${query}`, { wantBody: true });
        for (const item of page?.items ?? []) {
          const object = watchedObject(item, apiVersion, kind);
          if (object) objects.push(object);
        }
        next = typeof page?.metadata?.continue === 'string' && page.metadata.continue !== '' ? page.metadata.continue : undefined;
      } while (next);
    }
  }
  return objects;
}
