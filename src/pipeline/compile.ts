/**
 * Compiles the checked config into what the webhook path needs, once at start-up: per provider its codec, the
 * key `prepare` made, accepted events, route, allowed sources and the targets that listen to it, each with a
 * compiled matcher and selectors.
 */
import { ipFamily, newBlockList } from '../core/index.ts';
import type { BlockList } from 'node:net';
import type { Config, RateLimit, ResourceSelector } from '../config/index.ts';
import type { ReconcileAnnotation } from '../core/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import { createMatchCompiler, type MatchCompiler, type MatchResult } from './match.ts';
import type { Event, ProviderCodec } from '../provider-kit/index.ts';
import { indexKeysOf, indexTargets, type TargetIndex } from './target-index.ts';

export interface CompiledTarget {
  name: string;
  match: (event: Event) => MatchResult;
  selectors: ObjectSelector[];
  /** Where the target index files it (target-index.ts); none: every delivery evaluates it. */
  keys: readonly string[];
}

/** What `prepare` made of one configured provider (the config loader calls it, once). */
export interface PreparedProvider {
  codec: ProviderCodec<unknown>;
  /** The type's options with defaults applied. */
  options: unknown;
  key: unknown;
  /** What `prepare` made of the secrets being retired (`previousSecret`), when configured: tried when `key` refuses. */
  previousKey?: unknown;
  /** False for an `allowUnsigned` provider without a secret: its deliveries are not verified. */
  verifies: boolean;
}

export interface ProviderRuntime extends PreparedProvider {
  name: string;
  type: string;
  /** `/hook/<name>` or the configured `path`. */
  route: string;
  events: ReadonlySet<string>;
  /** Every event is acted on, not only `events` (a Flux Receiver without spec.events); `events` still bounds metric labels. */
  anyEvent?: boolean;
  /** Addresses allowed to send, when the provider restricts them. */
  allowedSources?: BlockList;
  /** Deliveries per sender, when the provider limits them (`burst` filled in). */
  rateLimit?: Required<RateLimit>;
  /** The targets that listen to this provider, indexed by repository and image. */
  targets: TargetIndex<CompiledTarget>;
}

/** A BlockList of the configured addresses and CIDRs (already checked by the config rules). */
export function addressBlocks(blocks: readonly string[]): BlockList {
  const list = newBlockList();
  for (const block of blocks) {
    const [address = '', bits] = block.split('/');
    const family = ipFamily(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/** How reconcile/ wants a selector expressed: the kind's apiVersion and annotation. */
export interface SelectorDefaults {
  defaultApiVersion(kind: string): string | undefined;
  annotationFor(kind: string, configured?: string): ReconcileAnnotation;
}

/** `clusters`: the target's `clusters` (undefined: every cluster); part of the selector's identity. */
export function compileSelector(resource: ResourceSelector, defaults: SelectorDefaults, clusters?: readonly string[]): ObjectSelector {
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
    ...(resource.matchLabels ? { matchLabels: resource.matchLabels } : {}),
    annotation: defaults.annotationFor(resource.kind, resource.annotation),
    key: `${apiVersion}|${resource.kind}|${resource.namespace}|${object}|${resource.annotation ?? ''}${clusters ? `|@${[...clusters].sort().join(',')}` : ''}`,
    label: `${resource.kind} ${resource.namespace}/${object}`,
    ...(clusters ? { clusters } : {}),
  };
}

/**
 * `matchCompiler`: the one that checked this config when it was loaded (LoadedConfig.matchCompiler), so each
 * target's match is compiled once; targets with the same branches, tags or paths share their compiled checks.
 */
export function compileProviders(config: Config, prepared: ReadonlyMap<string, PreparedProvider>, defaults: SelectorDefaults, matchCompiler: MatchCompiler = createMatchCompiler()): Map<string, ProviderRuntime> {
  const targets = config.targets.map((target) => ({
    providers: new Set(target.providers),
    compiled: { name: target.name, match: matchCompiler.compile(target.match), selectors: target.resources.map((resource) => compileSelector(resource, defaults, target.clusters)), keys: indexKeysOf(target.match) },
  }));
  const runtimes = new Map<string, ProviderRuntime>();
  for (const provider of config.providers) {
    const ready = prepared.get(provider.name)!;
    runtimes.set(provider.name, {
      ...ready,
      name: provider.name,
      type: provider.type,
      route: provider.path ?? `/hook/${provider.name}`,
      events: new Set(provider.events ?? ready.codec.defaultEvents),
      ...(provider.allowedSources ? { allowedSources: addressBlocks(provider.allowedSources) } : {}),
      ...(provider.rateLimit ? { rateLimit: { perSecond: provider.rateLimit.perSecond, burst: provider.rateLimit.burst ?? Math.ceil(provider.rateLimit.perSecond) } } : {}),
      targets: indexTargets(
        targets.filter((target) => target.providers.has(provider.name)).map((target) => target.compiled),
        (target) => target.keys,
      ),
    });
  }
  return runtimes;
}

/**
 * The targets that name `source` in their `providers` (an agent's upstream), compiled and indexed as a provider's
 * are: relayed events are matched against them as a delivery to that provider would be.
 */
export function compileSourceTargets(config: Config, source: string, defaults: SelectorDefaults, matchCompiler: MatchCompiler = createMatchCompiler()): TargetIndex<CompiledTarget> {
  const targets = config.targets
    .filter((target) => target.providers.includes(source))
    .map((target) => ({ name: target.name, match: matchCompiler.compile(target.match), selectors: target.resources.map((resource) => compileSelector(resource, defaults, target.clusters)), keys: indexKeysOf(target.match) }));
  return indexTargets(targets, (target) => target.keys);
}
