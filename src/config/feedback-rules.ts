/**
 * What `feedback:` watches, read from the config alone (the rules check it, the composition root starts it): the
 * kinds followed and the namespaces they are watched in; and the rules of the section a schema cannot say.
 */
import { defaultApiVersion } from '../core/index.ts';
import { MAX_WATCHES } from './cluster-rules.ts';
import type { RuleIssue } from './rule-issue.ts';
import type { Config } from './schema.ts';

/** The kinds every follow may need: the sources Flux fetches, what applies them, Argo CD's Applications. */
const FOLLOWED_BASE = ['GitRepository', 'OCIRepository', 'Bucket', 'HelmRepository', 'Kustomization', 'HelmRelease', 'Application'] as const;
const PLACEHOLDERS = ['cluster', 'kind', 'namespace', 'name'];

/**
 * The namespaces followed objects are watched in: `feedback.namespaces`, else those discovery, the targets and the
 * Receivers cover; undefined: all of them (discovery or Receivers without namespaces).
 *
 * @example followedNamespaces(config) // ['flux-system', 'apps']
 */
export function followedNamespaces(config: Config): string[] | undefined {
  if (config.feedback.namespaces) return [...new Set(config.feedback.namespaces)].sort();
  if (config.discovery.enabled && !config.discovery.namespaces) return undefined;
  if (config.fluxReceivers.enabled && !config.fluxReceivers.namespaces) return undefined;
  const namespaces = new Set<string>();
  if (config.discovery.enabled) for (const namespace of config.discovery.namespaces ?? []) namespaces.add(namespace);
  if (config.fluxReceivers.enabled) for (const namespace of config.fluxReceivers.namespaces ?? []) namespaces.add(namespace);
  for (const target of config.targets) for (const resource of target.resources) namespaces.add(resource.namespace);
  return [...namespaces].sort();
}

/**
 * The kinds followed, with their apiVersions: the base kinds, the kinds discovery reconciles, and the targets' own
 * (handled when they echo the request). A kind the cluster does not serve is skipped until it is.
 */
export function followedKinds(config: Config): { apiVersion: string; kind: string }[] {
  const kinds = new Map<string, { apiVersion: string; kind: string }>();
  const add = (kind: string, apiVersion = defaultApiVersion(kind)) => {
    if (apiVersion !== undefined) kinds.set(`${apiVersion}|${kind}`, { apiVersion, kind });
  };
  for (const kind of FOLLOWED_BASE) add(kind);
  if (config.discovery.enabled) for (const kind of config.discovery.kinds ?? ['GitRepository', 'OCIRepository', 'ImageRepository', 'Application']) add(kind);
  for (const target of config.targets) for (const resource of target.resources) add(resource.kind, resource.apiVersion ?? defaultApiVersion(resource.kind));
  return [...kinds.values()];
}

export function checkFeedback(config: Config): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const { feedback } = config;
  if (feedback.commitStatus && !feedback.enabled) {
    issues.push({ path: ['feedback', 'commitStatus'], message: 'commit statuses report what following finds: set feedback.enabled: true too' });
  }
  for (const match of feedback.context.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.includes(match[1]!)) issues.push({ path: ['feedback', 'context'], message: `{${match[1]}} is not a placeholder: use {cluster}, {kind}, {namespace} and {name}` });
  }
  if (!/\{name\}/.test(feedback.context)) issues.push({ path: ['feedback', 'context'], message: 'the context needs {name} (with {kind} and {namespace}), or every object would report under one status' });
  const seen = new Set<string>();
  feedback.namespaces?.forEach((namespace, index) => {
    if (seen.has(namespace)) issues.push({ path: ['feedback', 'namespaces', index], message: `namespace ${namespace} is listed twice` });
    seen.add(namespace);
  });
  if (feedback.enabled) {
    const open = (config.clusters?.length ?? 1) * watchesPerCluster(config);
    if (open > MAX_WATCHES) {
      issues.push({
        path: ['feedback', 'namespaces'],
        atKey: true,
        message: `feedback and discovery would keep ${open} watches open (clusters × kinds × namespaces), more than ${MAX_WATCHES}: fluxgate's HTTP client runs at most 256 requests at once; set feedback.namespaces to fewer namespaces, or watch all of them (one watch per kind)`,
      });
    }
  }
  return issues;
}

/** Watches one cluster holds for feedback and discovery together: one informer per kind, over the union of namespaces. */
function watchesPerCluster(config: Config): number {
  const followed = followedNamespaces(config);
  const discovered = config.discovery.enabled ? config.discovery.namespaces : [];
  const discoveryKinds = new Set<string>(config.discovery.enabled ? (config.discovery.kinds ?? ['GitRepository', 'OCIRepository', 'ImageRepository', 'Application']) : []);
  let open = 0;
  for (const { kind } of followedKinds(config)) {
    const both = discoveryKinds.has(kind);
    if (followed === undefined || (both && discovered === undefined)) open += 1;
    else open += Math.max(1, new Set([...followed, ...(both ? (discovered ?? []) : [])]).size);
  }
  return open;
}
