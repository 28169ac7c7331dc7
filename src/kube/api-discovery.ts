/**
 * API discovery for one API server: which resource (plural, namespaced or not) serves a kind, cached per
 * group/version. Only answers are cached: a failed look-up is tried again by the next call.
 */
import { KubeError } from './kube-error.ts';

export interface KubeResource {
  /** The resource name in URLs, from API discovery (e.g. `imagepolicies`). */
  plural: string;
  namespaced: boolean;
}

interface APIResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

export interface ApiDiscovery {
  /** The resource serving `kind` in `apiVersion`. */
  resource(apiVersion: string, kind: string): Promise<KubeResource>;
  /** `/apis/<group>/<version>/[namespaces/<ns>/]<plural>`; every namespace when `namespace` is undefined. */
  collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string>;
  /** Forgets what was said about `apiVersion`, so a kind installed since is found by the next call. */
  forget(apiVersion: string): void;
}

/** `get` reads one API path (a GET whose JSON body it resolves with); `target` names the server in errors. */
export function apiDiscovery(get: (path: string) => Promise<any>, target: string): ApiDiscovery {
  const lists = new Map<string, Promise<APIResourceList>>();

  function discover(groupVersion: string): Promise<APIResourceList> {
    let pending = lists.get(groupVersion);
    if (!pending) {
      const path = groupVersion.includes('/') ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
      pending = get(path).catch((e: unknown) => {
        lists.delete(groupVersion); // cache successes only: a later call tries again
        if (e instanceof KubeError && e.status === 404) {
          throw new KubeError(`${groupVersion} is not served by ${target} (is its CRD installed?)`, 'http', 404);
        }
        throw e;
      });
      lists.set(groupVersion, pending);
    }
    return pending;
  }

  async function resource(apiVersion: string, kind: string): Promise<KubeResource> {
    if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) throw new KubeError(`invalid apiVersion "${apiVersion}"`, 'http', 404);
    const list = await discover(apiVersion);
    const found = list.resources?.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!found) throw new KubeError(`kind ${kind} not served by ${apiVersion}`, 'http', 404);
    return { plural: found.name, namespaced: found.namespaced };
  }

  return {
    resource,
    async collectionPath(apiVersion, kind, namespace) {
      const r = await resource(apiVersion, kind);
      const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      return r.namespaced && namespace !== undefined ? `${root}/namespaces/${encodeURIComponent(namespace)}/${r.plural}` : `${root}/${r.plural}`;
    },
    forget: (apiVersion) => void lists.delete(apiVersion),
  };
}
