/**
 * The rules of `clusters:`, `targets[].clusters` and `discovery:` a schema cannot say: distinct names, each cluster
 * reached one way, `kubernetes:` not also naming a connection, references that exist.
 */
import type { RuleIssue } from './rule-issue.ts';
import type { Config } from './schema.ts';
import { closestName } from './suggest.ts';

/** A Kubernetes namespace name (RFC 1123 label). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/**
 * Watches discovery may hold open at once. Each is a request that never ends, and Bun's fetch runs at most 256
 * requests at a time (measured: the 257th waits): half of them stay free for patches, lists and probes.
 */
export const MAX_WATCHES = 128;
const ALL_KINDS = 4;

const didYouMean = (word: string, names: Iterable<string>) => {
  const close = closestName(word, names);
  return close === undefined ? '' : ` (did you mean "${close}"?)`;
};

export function checkClusters(config: Config): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const clusters = config.clusters;
  const names = new Set<string>();
  clusters?.forEach((cluster, index) => {
    const at = (...rest: (string | number)[]) => ['clusters', index, ...rest];
    if (names.has(cluster.name)) issues.push({ path: at('name'), message: `cluster "${cluster.name}" is defined twice` });
    names.add(cluster.name);
    if (cluster.inCluster === true && cluster.kubeconfig !== undefined) {
      issues.push({ path: at('inCluster'), atKey: true, message: 'give either kubeconfig or inCluster: true, not both' });
    } else if (cluster.inCluster !== true && cluster.kubeconfig === undefined) {
      issues.push({ path: at(), message: 'kubeconfig (a file) or inCluster: true is required' });
    }
    if (cluster.context !== undefined && cluster.kubeconfig === undefined) issues.push({ path: at('context'), atKey: true, message: 'context selects a context of kubeconfig: give kubeconfig too' });
  });
  if (clusters && clusters.filter((cluster) => cluster.inCluster === true).length > 1) {
    issues.push({ path: ['clusters', clusters.findLastIndex((cluster) => cluster.inCluster === true), 'inCluster'], atKey: true, message: 'only one cluster can be the one fluxgate runs in' });
  }
  if (clusters) {
    // With a fleet each cluster says how it is reached; `kubernetes:` keeps requestTimeout, and dry-run for all.
    for (const key of ['kubeconfig', 'context'] as const) {
      if (config.kubernetes[key] !== undefined) issues.push({ path: ['kubernetes', key], atKey: true, message: `with clusters:, give each cluster its own ${key}; kubernetes.${key} is not used` });
    }
    if (config.kubernetes.mode === 'kubeconfig' || config.kubernetes.mode === 'in-cluster') {
      issues.push({ path: ['kubernetes', 'mode'], message: `with clusters:, kubernetes.mode is auto or dry-run (each cluster says how it is reached)` });
    }
  }
  config.targets.forEach((target, index) => {
    target.clusters?.forEach((name, position) => {
      const path = ['targets', index, 'clusters', position];
      if (!clusters) issues.push({ path, message: 'there is no clusters: section (the target reconciles in the one kubernetes: connection)' });
      else if (!names.has(name)) issues.push({ path, message: `no cluster named "${name}"${didYouMean(name, names)}` });
    });
  });
  return issues;
}

export function checkDiscovery(config: Config): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const { discovery } = config;
  const providers = new Set([...config.providers.map((provider) => provider.name), ...(config.upstream ? [config.upstream.name] : [])]);
  discovery.providers?.forEach((name, index) => {
    if (!providers.has(name)) issues.push({ path: ['discovery', 'providers', index], message: `no provider named "${name}"${didYouMean(name, providers)}` });
  });
  const seen = new Set<string>();
  discovery.kinds?.forEach((kind, index) => {
    if (seen.has(kind)) issues.push({ path: ['discovery', 'kinds', index], message: `${kind} is listed twice` });
    seen.add(kind);
  });
  const namespaces = new Set<string>();
  discovery.namespaces?.forEach((namespace, index) => {
    if (!NAMESPACE.test(namespace) || namespace.length > 63) issues.push({ path: ['discovery', 'namespaces', index], message: `"${namespace}" is not a namespace name (lowercase letters, digits and -, at most 63)` });
    else if (namespaces.has(namespace)) issues.push({ path: ['discovery', 'namespaces', index], message: `namespace ${namespace} is listed twice` });
    namespaces.add(namespace);
  });
  const kinds = discovery.kinds ? new Set(discovery.kinds).size : ALL_KINDS;
  const open = (config.clusters?.length ?? 1) * kinds * Math.max(1, namespaces.size);
  if (discovery.enabled && open > MAX_WATCHES) {
    issues.push({
      path: ['discovery', 'namespaces'],
      atKey: true,
      message: `discovery would keep ${open} watches open (clusters × kinds × namespaces), more than ${MAX_WATCHES}: fluxgate's HTTP client runs at most 256 requests at once; watch all namespaces (omit namespaces: one watch per kind) or list fewer`,
    });
  }
  return issues;
}
