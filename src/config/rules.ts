/**
 * Config rules that a schema cannot express: cross references, ranges that depend on each other, targets. What a
 * provider type allows (its secrets, options, registration) is checked by the provider kit (provider-rules.ts).
 */
import { checkClusters, checkDiscovery } from './cluster-rules.ts';
import { checkFeedback } from './feedback-rules.ts';
import { checkRelay } from './relay-rules.ts';
import { isAddressBlock, KNOWN_KINDS } from '../core/index.ts';
import { closestName } from './suggest.ts';
import type { Config } from './schema.ts';
import type { RuleIssue } from './rule-issue.ts';

export type { RuleIssue };
import { formatDuration } from './units.ts';

export interface RuleContext {
  /** The apiVersion fluxgate assumes for a well-known kind, if any. */
  defaultApiVersion(kind: string): string | undefined;
  /** Compiles a target's match block; throws with a message naming the bad pattern. */
  compileMatch(match: Config['targets'][number]['match']): unknown;
  /** Rules of the layers above, reported with these (the provider kit's: what each provider type allows). */
  more?(config: Config): RuleIssue[];
}

export function checkConfigRules(config: Config, context: RuleContext): RuleIssue[] {
  return [...checkServer(config), ...(context.more?.(config) ?? []), ...checkTargets(config, context), ...checkClusters(config), ...checkDiscovery(config), ...checkFeedback(config), ...checkRelay(config, context.compileMatch)];
}

function checkServer(config: Config): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));
  for (const key of ['address', 'adminAddress'] as const) {
    const port = portOf(config.server[key]);
    if (port > 65535) issues.push({ path: ['server', key], message: `port ${port} is out of range` });
  }
  if (config.providers.length === 0 && !config.fluxReceivers.enabled && !config.upstream) {
    issues.push({ path: ['providers'], message: 'no provider: configure at least one, serve the cluster\'s Flux Receivers with fluxReceivers: { enabled: true }, or take events from an edge with upstream: { url, token }' });
  }
  if (config.server.adminAddress === config.server.address && portOf(config.server.address) !== 0) {
    issues.push({ path: ['server', 'adminAddress'], message: 'the admin listener needs its own address: the webhook port answers only /hook/* and /healthz' });
  }
  config.server.trustedProxies?.forEach((block, index) => {
    if (!isAddressBlock(block)) issues.push({ path: ['server', 'trustedProxies', index], message: `"${block}" is not an IP address or CIDR block (e.g. 10.0.0.0/8)` });
  });
  if (config.state.store === 'nats' && config.state.nats === undefined) {
    issues.push({ path: ['state', 'store'], message: 'store: nats needs state.nats: { servers: [nats://…] } (the NATS servers with JetStream the replicas share)' });
  }
  if (config.state.nats !== undefined && config.state.nats.lease < 1000) {
    issues.push({ path: ['state', 'nats', 'lease'], message: `lease ${formatDuration(config.state.nats.lease)} is too short: at least 1s (a replica renews it every third of it)` });
  }
  const retry = config.reconcile.retry;
  if (retry.maxDelay < retry.initialDelay) {
    issues.push({ path: ['reconcile', 'retry', 'maxDelay'], message: `maxDelay ${formatDuration(retry.maxDelay)} is shorter than initialDelay ${formatDuration(retry.initialDelay)}` });
  }
  return issues;
}

function checkTargets(config: Config, context: RuleContext): RuleIssue[] {
  const issues: RuleIssue[] = [];
  // An agent's targets name its upstream like a provider: the events relayed from the edge.
  const providerNames = new Set([...config.providers.map((provider) => provider.name), ...(config.upstream ? [config.upstream.name] : [])]);
  const names = new Set<string>();
  config.targets.forEach((target, index) => {
    const at = (...rest: (string | number)[]) => ['targets', index, ...rest];
    if (names.has(target.name)) issues.push({ path: at('name'), message: `target "${target.name}" is defined twice` });
    names.add(target.name);
    target.providers.forEach((name, position) => {
      if (!providerNames.has(name)) issues.push({ path: at('providers', position), message: `no provider named "${name}"` });
    });
    try {
      context.compileMatch(target.match);
    } catch (error) {
      issues.push({ path: at('match'), message: (error as Error).message });
    }
    target.resources.forEach((resource, position) => {
      const here = (...rest: string[]) => at('resources', position, ...rest);
      const known = context.defaultApiVersion(resource.kind);
      // A known kind misspelt (`Gitrepository`) is a typo, not another kind: say which one was meant.
      const meant = known || resource.apiVersion ? undefined : closestName(resource.kind, KNOWN_KINDS);
      if (meant !== undefined) {
        issues.push({ path: here('kind'), message: `kind "${resource.kind}" is not a kind fluxgate knows: did you mean "${meant}"? (a kind of your own needs its apiVersion and the annotation to set)` });
      } else if (!known && !resource.apiVersion) {
        issues.push({ path: here('kind'), message: `kind "${resource.kind}" is not a Flux or Argo CD kind: give its apiVersion and the annotation to set` });
      } else if (!known && !resource.annotation) {
        issues.push({ path: here('kind'), message: `kind "${resource.kind}" is not a Flux or Argo CD kind: give the annotation to set` });
      }
      if (resource.name !== undefined && resource.matchLabels !== undefined) {
        issues.push({ path: here('matchLabels'), atKey: true, message: 'give either name or matchLabels, not both' });
      } else if (resource.name === undefined && resource.matchLabels === undefined) {
        issues.push({ path: here(), message: 'name or matchLabels is required' });
      } else if (resource.matchLabels !== undefined && Object.keys(resource.matchLabels).length === 0) {
        issues.push({ path: here('matchLabels'), message: 'matchLabels is empty: it would select every object of the kind' });
      }
    });
  });
  return issues;
}
