/**
 * A `generic-oidc` Receiver, as notification-controller reads one: the bearer token's unverified `iss` picks the
 * `oidcProviders` entry with that `issuerURL`; the token must be signed by that issuer's published keys, for its
 * `audience` (default `notification-controller`) and not expired (fluxgate's OIDC verifier, with its key caches);
 * then the entry's `variables` are evaluated in order (`vars.<name>`) and every `validation` must be true, or the
 * answer is 401 with the messages of those that are not. The body is not read (Flux reads none), and the verified
 * claims are a resourceFilter's `claims`.
 *
 * fluxgate's own `generic-oidc` type (issuers, audience, claim globs) cannot express these CEL rules, so a
 * Receiver of this type gets a codec of its own.
 */
import { decodeJwt } from 'jose';
import type { Event, ProviderCodec, VerifyResult } from '../pipeline/provider.ts';
import { bearerToken } from '../provider-kit/credentials.ts';
import { oidcVerifier, type OidcVerifier } from '../provider-kit/oidc.ts';
import { printable } from '../provider-kit/verdict.ts';
import type { CompiledClaimRule, FilterCompiler } from './cel-filter.ts';
import { requestOf, type DeliveryContext, type ReceiverCodec } from './receiver-codec.ts';
import type { OidcProviderSpec } from './receiver-spec.ts';

interface IssuerRules {
  verifier: OidcVerifier;
  variables: { name: string; rule: CompiledClaimRule }[];
  validations: { rule: CompiledClaimRule; message: string }[];
}

const EVENT = 'push';

/** The issuer a token claims, before anything about it is trusted (it only picks the provider that verifies it). */
function claimedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' && iss !== '' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** Variables in order, then every validation: the messages of those that are false. */
function checkClaims(rules: IssuerRules, claims: Readonly<Record<string, unknown>>): string | undefined {
  const vars: Record<string, unknown> = {};
  for (const { name, rule } of rules.variables) {
    const result = rule.run({ claims, vars });
    if ('error' in result) return `variable ${name} could not be evaluated: ${result.error}`;
    vars[name] = result.value;
  }
  const failures: string[] = [];
  for (const { rule, message } of rules.validations) {
    const result = rule.run({ claims, vars });
    if ('error' in result) return `a validation could not be evaluated: ${result.error}`;
    if (result.value !== true) failures.push(message);
  }
  return failures.length > 0 ? `token validation failed: ${failures.join('; ')}` : undefined;
}

/**
 * @example
 * const made = oidcReceiverCodec([{ issuerURL: 'https://token.actions.githubusercontent.com', audience: 'notification-controller',
 *   variables: [], validations: [{ expression: "claims.repository_owner == 'my-org'", message: 'wrong org' }] }], filters, { readsRequest: false });
 */
export function oidcReceiverCodec(
  providers: readonly OidcProviderSpec[],
  filters: FilterCompiler,
  options: { readsRequest: boolean },
): { codec: ReceiverCodec; options: undefined; key: ReadonlyMap<string, IssuerRules>; verifies: true } | string {
  const byIssuer = new Map<string, IssuerRules>();
  for (const [index, provider] of providers.entries()) {
    const at = `oidcProviders[${index}]`;
    const variables: IssuerRules['variables'] = [];
    for (const variable of provider.variables) {
      const rule = filters.compileClaimRule(variable.expression, 'any');
      if ('problem' in rule) return `${at}.variables ${variable.name}: ${rule.problem}`;
      variables.push({ name: variable.name, rule });
    }
    const validations: IssuerRules['validations'] = [];
    for (const [position, validation] of provider.validations.entries()) {
      const rule = filters.compileClaimRule(validation.expression, 'bool');
      if ('problem' in rule) return `${at}.validations[${position}]: ${rule.problem}`;
      validations.push({ rule, message: validation.message });
    }
    byIssuer.set(provider.issuerURL, { verifier: oidcVerifier({ issuers: [provider.issuerURL], audience: provider.audience }), variables, validations });
  }
  const contexts = new WeakMap<Event, DeliveryContext>();

  const codec: ProviderCodec<ReadonlyMap<string, IssuerRules>> = {
    id: 'generic-oidc',
    defaultEvents: [EVENT],
    secretFields: [],
    keyless: true,
    describe: () => ({ event: EVENT }),
    async verify(request, key, now): Promise<VerifyResult> {
      const token = bearerToken(request.headers.get('authorization'));
      if (token === undefined) return { ok: false, reason: 'the Authorization header is missing or is not a bearer token' };
      const issuer = claimedIssuer(token);
      if (issuer === undefined) return { ok: false, reason: 'the bearer token is not a JWT with an iss claim' };
      const rules = key.get(issuer);
      if (rules === undefined) return { ok: false, reason: `no oidcProvider for issuer ${printable(issuer) ?? '(not shown)'}` };
      const verdict = await rules.verifier.verify(token, now);
      if (!verdict.ok) return verdict;
      const failed = checkClaims(rules, verdict.claims ?? {});
      return failed === undefined ? verdict : { ok: false, reason: failed };
    },
    parse(request, info) {
      const event: Event = { event: EVENT, repositories: [] };
      if (options.readsRequest) contexts.set(event, { req: requestOf(request), claims: info.claims ?? {} });
      return { events: [event] };
    },
    sign: () => ({}),
  };
  return { codec: { codec: codec as ProviderCodec<unknown>, events: new Set([EVENT]), contextOf: (event) => contexts.get(event) }, options: undefined, key: byIssuer, verifies: true };
}
