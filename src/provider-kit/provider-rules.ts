/**
 * The rules of `providers[]` a schema cannot say: a known type, secrets and `allowUnsigned` that fit what the type
 * verifies with, `options` checked against the type's own schema, distinct names and routes, and source
 * addresses that parse; a `register` block that fits its host.
 */
import { isAddressBlock } from '../core/index.ts';
import { routeOf } from '../config/index.ts';
import { Value } from '@sinclair/typebox/value';
import type { Catalog } from './catalog.ts';
import type { ProviderCodec } from './contract.ts';
import type { CommitStatusSpec } from './commit-status.ts';
import { hookEventsFor } from './registration.ts';
import type { RuleIssue } from '../config/index.ts';
import type { Config, ProviderConfig } from '../config/index.ts';
import { schemaProblems } from '../config/index.ts';
import { closestName } from '../config/index.ts';
import { PREVIOUS_SECRET_FIELDS } from '../config/index.ts';

const SECRET_FIELDS = ['secret', 'signingSecret'] as const;

/** A provider's options with the type's defaults applied (what `prepare` and `sign` receive). */
export function optionsOf(codec: ProviderCodec<unknown>, options: unknown): unknown {
  return codec.options ? Value.Default(codec.options, structuredClone(options ?? {})) : undefined;
}

/** The types a config may use, and those of them `fluxgate register` can keep webhooks for. */
export type ProviderTypes = ReadonlyMap<string, ProviderCodec<unknown>> & Pick<Catalog, 'registrations'> & Partial<Pick<Catalog, 'commitStatuses'>>;

export function checkProviders(config: Config, catalog: ProviderTypes): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const names = new Set<string>();
  const routes = new Map<string, string>();
  config.providers.forEach((provider, index) => {
    const at = (...rest: (string | number)[]) => ['providers', index, ...rest];
    if (names.has(provider.name)) issues.push({ path: at('name'), message: `provider "${provider.name}" is defined twice` });
    names.add(provider.name);
    const route = routeOf(provider);
    const taken = routes.get(route);
    if (taken !== undefined) issues.push({ path: at(provider.path ? 'path' : 'name'), message: `route ${route} is already provider "${taken}"'s` });
    routes.set(route, provider.name);
    provider.allowedSources?.forEach((block, position) => {
      if (!isAddressBlock(block)) issues.push({ path: at('allowedSources', position), message: `"${block}" is not an IP address or CIDR block (e.g. 192.0.2.0/24)` });
    });

    const codec = catalog.get(provider.type);
    if (!codec) {
      const near = closestName(provider.type, catalog.keys());
      issues.push({ path: at('type'), message: `unknown provider type "${provider.type}" (${near ? `did you mean "${near}"? ` : ''}known: ${[...catalog.keys()].join(', ')})` });
      return;
    }
    issues.push(...checkSecrets(provider, codec, at));
    if (provider.register) issues.push(...checkRegister(config, provider, codec, catalog, at));
    if (codec.options) {
      for (const problem of schemaProblems(codec.options, optionsOf(codec, provider.options))) {
        issues.push({ path: at('options', ...problem.at), atKey: problem.atKey, message: problem.message });
      }
    } else if (provider.options !== undefined) {
      issues.push({ path: at('options'), atKey: true, message: `type "${codec.id}" takes no options` });
    }
  });
  return issues;
}

function checkSecrets(provider: ProviderConfig, codec: ProviderCodec<unknown>, at: (...rest: (string | number)[]) => (string | number)[]): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const field of SECRET_FIELDS) {
    if (provider[field] && !codec.secretFields.includes(field)) issues.push({ path: at(field), atKey: true, message: `type "${codec.id}" does not use ${field}` });
    const previous = PREVIOUS_SECRET_FIELDS[field];
    if (!provider[previous]) continue;
    if (!codec.secretFields.includes(field)) issues.push({ path: at(previous), atKey: true, message: `type "${codec.id}" does not use ${field}, so it has no ${previous}` });
    else if (!provider[field]) issues.push({ path: at(previous), atKey: true, message: `${previous} is the ${field} being retired: set ${field} (the new one) beside it` });
  }
  const configured = SECRET_FIELDS.some((field) => provider[field] !== undefined && codec.secretFields.includes(field));
  if (codec.keyless) {
    if (provider.allowUnsigned !== undefined) issues.push({ path: at('allowUnsigned'), atKey: true, message: `type "${codec.id}" verifies tokens signed by the issuers its options name; remove allowUnsigned` });
  } else if (codec.secretFields.length === 0) {
    if (provider.allowUnsigned !== true) {
      issues.push({ path: at('type'), message: `type "${codec.id}" checks no signature: set allowUnsigned: true to accept unsigned requests (the route is then the only secret; consider allowedSources too)` });
    }
  } else if (configured && provider.allowUnsigned === true) {
    issues.push({ path: at('allowUnsigned'), atKey: true, message: `allowUnsigned has no effect when a secret is configured: remove one of them` });
  } else if (!configured && provider.allowUnsigned !== true) {
    issues.push({ path: at(), message: `provider "${provider.name}" needs ${codec.secretFields.join(' or ')} ({ env: NAME }, { file: PATH } or { value: "..." }), or allowUnsigned: true` });
  }
  return issues;
}

/**
 * A `register` block: a host fluxgate can register on, where, with what (publicUrl, a secret, events it has). With
 * `feedback.commitStatus`, a block without scopes only lends its token to commit statuses, and a host with a
 * statuses API but no hooks API (Bitbucket Cloud) takes a block of a token and an API.
 */
function checkRegister(config: Config, provider: ProviderConfig, codec: ProviderCodec<unknown>, catalog: ProviderTypes, at: (...rest: (string | number)[]) => (string | number)[]): RuleIssue[] {
  const register = provider.register!;
  const spec = catalog.registrations.get(codec.id)?.spec;
  const statuses = config.feedback.commitStatus ? catalog.commitStatuses?.get(codec.id) : undefined;
  const scopeKeys = ['repositories', 'organization', 'projects', 'groups'] as const;
  const scoped = scopeKeys.some((key) => register[key] !== undefined);
  if (!spec) {
    if (statuses) return statusOnlyRegister(register, statuses.spec, codec.id, at);
    const known = [...catalog.registrations.keys()].join(', ');
    return [{ path: at('register'), atKey: true, message: `type "${codec.id}" cannot register webhooks: fluxgate register knows ${known}` }];
  }
  if (!scoped && statuses) return apiUrlIssues(register, statuses.spec, at);
  const issues: RuleIssue[] = [];
  if (config.server.publicUrl === undefined) {
    issues.push({ path: at('register'), atKey: true, message: 'register needs server.publicUrl: the address the host reaches fluxgate at (the hook URL is publicUrl + the route)' });
  }
  for (const key of scopeKeys) {
    if (register[key] === undefined) continue;
    if (!spec.scopeKeys.includes(key)) issues.push({ path: at('register', key), atKey: true, message: `${spec.title} registers on ${spec.scopeKeys.join(' or ')}, not ${key}` });
    else if (register[key] === 'discovered' && !config.discovery.enabled) {
      issues.push({ path: at('register', key), message: `"discovered" takes the ${key} from the Flux sources discovery finds: it needs discovery: { enabled: true }` });
    }
  }
  if (!spec.scopeKeys.some((key) => register[key] !== undefined)) {
    issues.push({ path: at('register'), atKey: true, message: `register needs ${spec.scopeKeys.join(' or ')}: where to keep the webhook` });
  }
  if (spec.defaultApiUrl === undefined && register.apiUrl === undefined) {
    issues.push({ path: at('register'), atKey: true, message: `${spec.title} has no public API to default to: set register.apiUrl (e.g. ${spec.exampleApiUrl})` });
  }
  if (!codec.secretFields.some((field) => provider[field] !== undefined)) {
    issues.push({ path: at('register'), atKey: true, message: `register needs ${codec.secretFields.join(' or ')}: a hook registered without one would let anyone trigger reconciles` });
  }
  const events = provider.events ?? codec.defaultEvents;
  const { events: hookEvents, unknown } = hookEventsFor(spec, events);
  for (const name of unknown) {
    const index = provider.events?.indexOf(name) ?? -1;
    issues.push({ path: index >= 0 ? at('events', index) : at('events'), message: `${spec.title} has no hook event for "${name}", so register cannot subscribe to it` });
  }
  if (unknown.length === 0 && hookEvents.length === 0) {
    issues.push({ path: at('events'), message: `none of these events is one a ${spec.title} hook subscribes to: register would have nothing to ask for` });
  }
  return issues;
}

/** The `register` block of a type whose host takes commit statuses but keeps no hooks through fluxgate: a token and an API only. */
function statusOnlyRegister(register: NonNullable<ProviderConfig['register']>, spec: CommitStatusSpec, type: string, at: (...rest: (string | number)[]) => (string | number)[]): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const key of ['repositories', 'organization', 'projects', 'groups', 'onStart'] as const) {
    if (register[key] !== undefined) issues.push({ path: at('register', key), atKey: true, message: `type "${type}" cannot register webhooks: its register block only gives commit statuses a token (and apiUrl)` });
  }
  return [...issues, ...apiUrlIssues(register, spec, at)];
}

function apiUrlIssues(register: NonNullable<ProviderConfig['register']>, spec: CommitStatusSpec, at: (...rest: (string | number)[]) => (string | number)[]): RuleIssue[] {
  if (spec.defaultApiUrl !== undefined || register.apiUrl !== undefined) return [];
  return [{ path: at('register'), atKey: true, message: `${spec.title} has no public API to default to: set register.apiUrl (e.g. ${spec.exampleApiUrl})` }];
}
