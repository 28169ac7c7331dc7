/** Config rules that a schema cannot express: cross references and plugin capabilities. */
import type { ProviderPlugin } from '../plugins/plugin-api.ts';
import type { Config } from './schema.ts';
import { formatDuration } from './units.ts';

export interface RuleContext {
  /** Provider plugins by id (built in and from pluginsDir). */
  plugins: ReadonlyMap<string, ProviderPlugin>;
  /** The apiVersion fluxgate assumes for a well-known kind, if any. */
  defaultApiVersion(kind: string): string | undefined;
  /** Compiles a target's match block; throws with a message naming the bad pattern. */
  compileMatch(match: Config['targets'][number]['match']): unknown;
}

export interface RuleIssue {
  path: (string | number)[];
  message: string;
  /** Point at the key rather than its value. */
  atKey?: boolean;
}

export function checkConfigRules(config: Config, context: RuleContext): RuleIssue[] {
  return [...checkServer(config), ...checkProviders(config, context), ...checkTargets(config, context)];
}

function checkServer(config: Config): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const port = Number(config.server.address.slice(config.server.address.lastIndexOf(':') + 1));
  if (port > 65535) issues.push({ path: ['server', 'address'], message: `port ${port} is out of range` });
  const retry = config.reconcile.retry;
  if (retry.maxDelay < retry.initialDelay) {
    issues.push({ path: ['reconcile', 'retry', 'maxDelay'], message: `maxDelay ${formatDuration(retry.maxDelay)} is shorter than initialDelay ${formatDuration(retry.initialDelay)}` });
  }
  return issues;
}

function checkProviders(config: Config, context: RuleContext): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const names = new Set<string>();
  config.providers.forEach((provider, index) => {
    const at = (...rest: (string | number)[]) => ['providers', index, ...rest];
    if (names.has(provider.name)) issues.push({ path: at('name'), message: `provider "${provider.name}" is defined twice` });
    names.add(provider.name);
    const plugin = context.plugins.get(provider.type);
    if (!plugin) {
      const known = [...context.plugins.keys()].join(', ');
      issues.push({ path: at('type'), message: `unknown provider type "${provider.type}" (known: ${known})` });
      return;
    }
    if (plugin.supportsUnsigned) {
      if (provider.allowUnsigned !== true) {
        issues.push({ path: at('type'), message: `type "${plugin.id}" checks no signature: set allowUnsigned: true to accept unsigned requests (the route name is then the only secret)` });
      }
    } else if (provider.allowUnsigned !== undefined) {
      issues.push({ path: at('allowUnsigned'), atKey: true, message: `type "${plugin.id}" always verifies requests; remove allowUnsigned` });
    }
    for (const field of ['secret', 'signingSecret'] as const) {
      if (provider[field] && !plugin.secretFields.includes(field)) {
        issues.push({ path: at(field), atKey: true, message: `type "${plugin.id}" does not use ${field}` });
      }
    }
    const configured = plugin.secretFields.some((field) => provider[field] !== undefined);
    if (plugin.secretFields.length > 0 && !configured && !plugin.supportsUnsigned) {
      issues.push({ path: at(), message: `provider "${provider.name}" needs ${plugin.secretFields.join(' or ')} ({ env: NAME }, { file: PATH } or { value: "..." })` });
    }
  });
  return issues;
}

function checkTargets(config: Config, context: RuleContext): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const providerNames = new Set(config.providers.map((provider) => provider.name));
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
      if (!known && !resource.apiVersion) {
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
