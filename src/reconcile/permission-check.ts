/**
 * Asks the API server, once at start-up, whether fluxgate's credentials may do what the config needs
 * (patch each object, list for label selectors). /readyz only proves the server answers; a token without
 * rights would otherwise surface as a 403 on the first push, possibly days later.
 */
import type { KubeClient } from './kube-client.ts';
import type { ObjectSelector } from './reconciler.ts';

export interface MissingPermission {
  verb: 'patch' | 'list' | 'create';
  kind: string;
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
