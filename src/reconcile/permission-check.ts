/**
 * Asks the API server, once at start-up, whether fluxgate's credentials may do what the config needs
 * (patch each object, list for label selectors). /readyz only proves the server answers; a token without
 * rights would otherwise surface as a 403 on the first push, possibly days later.
 */
import type { KubeClient } from './kube-client.ts';
import type { ObjectSelector } from './reconciler.ts';

export interface MissingPermission {
  verb: 'patch' | 'list';
  kind: string;
  namespace: string;
  /** The configured selectors this affects. */
  selectors: string[];
}

export async function findMissingPermissions(client: KubeClient, selectors: readonly ObjectSelector[]): Promise<MissingPermission[]> {
  const checks = new Map<string, MissingPermission & { apiVersion: string }>();
  for (const selector of selectors) {
    const verbs = selector.matchLabels ? (['list', 'patch'] as const) : (['patch'] as const);
    for (const verb of verbs) {
      const key = `${verb}|${selector.apiVersion}|${selector.kind}|${selector.namespace}`;
      const check = checks.get(key) ?? { verb, apiVersion: selector.apiVersion, kind: selector.kind, namespace: selector.namespace, selectors: [] };
      check.selectors.push(selector.label);
      checks.set(key, check);
    }
  }
  const results = await Promise.all(
    [...checks.values()].map(async ({ apiVersion, ...check }) => ((await client.canI(check.verb, apiVersion, check.kind, check.namespace)) ? undefined : check)),
  );
  return results.filter((result): result is MissingPermission => result !== undefined);
}
