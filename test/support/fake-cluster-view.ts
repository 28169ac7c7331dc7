/**
 * A ClusterView (src/feedback/cluster-view.ts) held in memory, for unit tests of following: statuses set by the test
 * as the controllers would write them, the objects applying each source, and what is not watched.
 */
import type { ClusterView, ObjectName } from '../../src/feedback/cluster-view.ts';
import { sourceKey, statusOf, type ObjectStatus } from '../../src/feedback/object-status.ts';

export interface FakeClusterView extends ClusterView {
  /** Sets an object's status from its manifest (as a watch would read it); returns its name for `follower.changed`. */
  put(object: { kind: string; metadata: { name: string; namespace: string }; spec?: unknown; status?: unknown }): ObjectName;
  /** Namespaces not watched. */
  unwatchedNamespaces: Set<string>;
}

export function fakeClusterView(): FakeClusterView {
  const statuses = new Map<string, ObjectStatus>();
  const unwatchedNamespaces = new Set<string>();
  const id = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;
  return {
    unwatchedNamespaces,
    put(object) {
      const { name, namespace } = object.metadata;
      statuses.set(id(object.kind, namespace, name), statusOf({ apiVersion: 'v1', ...object } as Parameters<typeof statusOf>[0]));
      return { kind: object.kind, namespace, name };
    },
    status: (kind, namespace, name) => statuses.get(id(kind, namespace, name)),
    unwatched: (kind, namespace) => (unwatchedNamespaces.has(namespace) ? `namespace ${namespace} is not watched (feedback.namespaces)` : undefined),
    dependants: (source) =>
      [...statuses.entries()].filter(([, status]) => status.source === source).map(([key]) => {
        const [kind, namespace, name] = key.split('/') as [string, string, string];
        return { kind, namespace, name };
      }),
    size: () => statuses.size,
    start() {},
    async stop() {},
  };
}

export { sourceKey };
