/**
 * Compiles the checked config into what the webhook path needs, once at start-up: per provider its plugin,
 * secrets, accepted events and the targets that listen to it, each with a compiled matcher and selectors.
 */
import type { Config, ResourceSelector } from '../config/schema.ts';
import type { ProviderPlugin, ProviderSecrets } from '../plugins/plugin-api.ts';
import type { ReconcileAnnotation } from '../reconcile/kinds.ts';
import type { ObjectSelector } from '../reconcile/reconciler.ts';
import { compileMatch, type MatchResult } from './match.ts';
import type { GitEvent } from '../plugins/plugin-api.ts';

export interface CompiledTarget {
  name: string;
  match: (event: GitEvent) => MatchResult;
  selectors: ObjectSelector[];
}

export interface ProviderRuntime {
  name: string;
  type: string;
  plugin: ProviderPlugin;
  secrets: ProviderSecrets;
  events: ReadonlySet<string>;
  targets: CompiledTarget[];
}

/** How reconcile/ wants a selector expressed: the kind's apiVersion and annotation. */
export interface SelectorDefaults {
  defaultApiVersion(kind: string): string | undefined;
  annotationFor(kind: string, configured?: string): ReconcileAnnotation;
}

export function compileSelector(resource: ResourceSelector, defaults: SelectorDefaults): ObjectSelector {
  const apiVersion = resource.apiVersion ?? defaults.defaultApiVersion(resource.kind)!;
  const labels = resource.matchLabels
    ? Object.entries(resource.matchLabels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => `${key}=${value}`)
        .join(',')
    : undefined;
  const object = resource.name ?? `{${labels}}`;
  return {
    apiVersion,
    kind: resource.kind,
    namespace: resource.namespace,
    name: resource.name,
    matchLabels: resource.matchLabels,
    annotation: defaults.annotationFor(resource.kind, resource.annotation),
    key: `${apiVersion}|${resource.kind}|${resource.namespace}|${object}|${resource.annotation ?? ''}`,
    label: `${resource.kind} ${resource.namespace}/${object}`,
  };
}

export function compileProviders(
  config: Config,
  plugins: ReadonlyMap<string, ProviderPlugin>,
  secrets: ReadonlyMap<string, ProviderSecrets>,
  defaults: SelectorDefaults,
): Map<string, ProviderRuntime> {
  const targets = config.targets.map((target) => ({
    providers: new Set(target.providers),
    compiled: { name: target.name, match: compileMatch(target.match), selectors: target.resources.map((resource) => compileSelector(resource, defaults)) },
  }));
  const runtimes = new Map<string, ProviderRuntime>();
  for (const provider of config.providers) {
    const plugin = plugins.get(provider.type)!;
    runtimes.set(provider.name, {
      name: provider.name,
      type: provider.type,
      plugin,
      secrets: secrets.get(provider.name) ?? {},
      events: new Set(provider.events ?? plugin.defaultEvents),
      targets: targets.filter((target) => target.providers.has(provider.name)).map((target) => target.compiled),
    });
  }
  return runtimes;
}
