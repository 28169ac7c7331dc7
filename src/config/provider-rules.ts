/**
 * The rules of `providers[]` a schema cannot say: a known type, secrets and `allowUnsigned` that fit what the type
 * verifies with, `options` checked against the type's own schema, distinct names and routes, and source
 * addresses that parse.
 */
import { isIP } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import type { ProviderCodec } from '../pipeline/provider.ts';
import type { RuleIssue } from './rules.ts';
import type { Config, ProviderConfig } from './schema.ts';
import { schemaProblems } from './schema-problems.ts';
import { closestName } from './suggest.ts';

const SECRET_FIELDS = ['secret', 'signingSecret'] as const;

/** The route of a provider: its `path`, else `/hook/<name>`. */
export function routeOf(provider: Pick<ProviderConfig, 'name' | 'path'>): string {
  return provider.path ?? `/hook/${provider.name}`;
}

/** A provider's options with the type's defaults applied (what `prepare` and `sign` receive). */
export function optionsOf(codec: ProviderCodec<unknown>, options: unknown): unknown {
  return codec.options ? Value.Default(codec.options, structuredClone(options ?? {})) : undefined;
}

/** Whether `value` is an IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function isAddressBlock(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

export function checkProviders(config: Config, catalog: ReadonlyMap<string, ProviderCodec<unknown>>): RuleIssue[] {
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
