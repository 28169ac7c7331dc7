/**
 * Asks the API server, once at start-up, whether fluxgate's credentials may do what the config needs
 * (patch each object, list for label selectors; list, watch and patch for each discovered kind). /readyz only
 * proves the server answers; a token without rights would otherwise surface as a 403 on the first push,
 * possibly days later.
 */
import { KubeError, type KubeClient } from './client.ts';
import type { ObjectSelector } from '../core/index.ts';

export interface MissingPermission {
  verb: 'patch' | 'list' | 'watch' | 'create' | 'get';
  kind: string;
  /** `''`: in every namespace (a cluster-wide watch). */
  namespace: string;
  /** The configured selectors this affects. */
  selectors: string[];
}

/** `events`: also check that Events may be created where the objects are (kubernetes.events). */
export async function findMissingPermissions(client: KubeClient, selectors: readonly ObjectSelector[], options: { events: boolean } = { events: false }): Promise<MissingPermission[]> {
  const checks = new Map<string, MissingPermission & { apiVersion: string }>();
  const need = (verb: MissingPermission['verb'], apiVersion: string, kind: string, selector: ObjectSelector) => {
    const key = `${verb}|${apiVersion}|${kind}|${selector.namespace}`;
    const check = checks.get(key) ?? { verb, apiVersion, kind, namespace: selector.namespace, selectors: [] };
    check.selectors.push(selector.label);
    checks.set(key, check);
  };
  for (const selector of selectors) {
    const verbs = selector.matchLabels ? (['list', 'patch'] as const) : (['patch'] as const);
    for (const verb of verbs) need(verb, selector.apiVersion, selector.kind, selector);
    if (options.events) need('create', 'events.k8s.io/v1', 'Event', selector);
  }
  const results = await Promise.all(
    [...checks.values()].map(async ({ apiVersion, ...check }) => ((await client.canI(check.verb, apiVersion, check.kind, check.namespace)) ? undefined : check)),
  );
  return results.filter((result): result is MissingPermission => result !== undefined);
}

/**
 * What discovery needs of each kind it watches: list and watch (to keep its index), patch (to reconcile what it
 * finds), in each watched namespace, or in all of them (`namespaces` undefined). A kind the cluster does not serve
 * is skipped: there is nothing to watch yet.
 *
 * @example await findMissingDiscoveryPermissions(client, [{ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository' }], undefined)
 * // [{ verb: 'watch', kind: 'GitRepository', namespace: '', selectors: ['discovery'] }] when watch is not granted
 */
export async function findMissingDiscoveryPermissions(
  client: KubeClient,
  kinds: readonly { apiVersion: string; kind: string }[],
  namespaces: readonly string[] | undefined,
): Promise<MissingPermission[]> {
  return findMissingWatchPermissions(client, kinds, namespaces, ['list', 'watch', 'patch'], 'discovery');
}

/**
 * What following (`feedback:`) needs of each kind it follows: get, list and watch, in each followed namespace or in
 * all of them. A kind the cluster does not serve is skipped.
 */
export async function findMissingFollowPermissions(client: KubeClient, kinds: readonly { apiVersion: string; kind: string }[], namespaces: readonly string[] | undefined): Promise<MissingPermission[]> {
  return findMissingWatchPermissions(client, kinds, namespaces, ['get', 'list', 'watch'], 'feedback');
}

async function findMissingWatchPermissions(
  client: KubeClient,
  kinds: readonly { apiVersion: string; kind: string }[],
  namespaces: readonly string[] | undefined,
  verbs: readonly MissingPermission['verb'][],
  label: string,
): Promise<MissingPermission[]> {
  const checks = kinds.flatMap(({ apiVersion, kind }) => (namespaces ?? ['']).flatMap((namespace) => verbs.map((verb) => ({ verb, apiVersion, kind, namespace }))));
  const results = await Promise.all(
    checks.map(async ({ apiVersion, ...check }): Promise<MissingPermission | undefined> => {
      try {
        return (await client.canI(check.verb, apiVersion, check.kind, check.namespace)) ? undefined : { ...check, selectors: [label] };
      } catch (error) {
        if (error instanceof KubeError && error.status === 404) return undefined; // not served: nothing to watch yet
        throw error;
      }
    }),
  );
  return results.filter((result): result is MissingPermission => result !== undefined);
}
