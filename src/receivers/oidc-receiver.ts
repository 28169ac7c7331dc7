/**
 * A `generic-oidc` Receiver, as notification-controller reads one: the bearer token's unverified `iss` picks the
 * `oidcProviders` entry with that `issuerURL`; the token must be signed by that issuer's published keys, for its
 * `audience` (default `notification-controller`) and not expired (fluxgate's OIDC verifier, with its key caches);
 * then the entry's `variables` are evaluated in order (`vars.<name>`) and every `validation` must be true, or the
 * answer is 401 with the messages of those that are not. The rules run in the CEL evaluator's worker
 * (cel-evaluator.ts), bounded like a resourceFilter: a token whose rules go past a bound is refused (401). The body is not read (Flux reads none), and the verified
 * claims are a resourceFilter's `claims`.
 *
 * fluxgate's own `generic-oidc` type (issuers, audience, claim globs) cannot express these CEL rules, so a
 * Receiver of this type gets a codec of its own.
 */
import { decodeJwt } from 'jose';
import type { Event, ProviderCodec, VerifyResult } from '../provider-kit/index.ts';
import { bearerToken } from '../provider-kit/index.ts';
import { oidcVerifier, type OidcVerifier } from '../provider-kit/index.ts';
import { printable } from '../provider-kit/index.ts';
import type { CelEvaluator } from './cel-evaluator.ts';
import type { FilterCompiler } from './cel-filter.ts';
import { requestOf, type DeliveryContext, type ReceiverCodec } from './receiver-codec.ts';
import type { OidcProviderSpec } from './receiver-spec.ts';

interface IssuerRules {
  verifier: OidcVerifier;
  variables: { name: string; expression: string }[];
  validations: { expression: string; message: string }[];
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

/** Variables in order, then every validation (in the evaluator): why the token is refused, or undefined. */
async function checkClaims(rules: IssuerRules, claims: Readonly<Record<string, unknown>>, evaluator: CelEvaluator): Promise<string | undefined> {
  if (rules.variables.length + rules.validations.length === 0) return undefined;
  const answer = await evaluator.claims({ claims, variables: rules.variables, validations: rules.validations });
  return 'failed' in answer ? `the token's rules could not be checked: ${answer.failed}` : answer.rejected;
}

/**
 * @example
 * const made = oidcReceiverCodec([{ issuerURL: 'https://token.actions.githubusercontent.com', audience: 'notification-controller',
 *   variables: [], validations: [{ expression: "claims.repository_owner == 'my-org'", message: 'wrong org' }] }], filters, evaluator, { readsRequest: false });
 */
export function oidcReceiverCodec(
  providers: readonly OidcProviderSpec[],
  filters: FilterCompiler,
  evaluator: CelEvaluator,
  options: { readsRequest: boolean },
): { codec: ReceiverCodec; options: undefined; key: ReadonlyMap<string, IssuerRules>; verifies: true } | string {
  const byIssuer = new Map<string, IssuerRules>();
  for (const [index, provider] of providers.entries()) {
    const at = `oidcProviders[${index}]`;
    const variables: IssuerRules['variables'] = [];
    for (const variable of provider.variables) {
      const rule = filters.compileClaimRule(variable.expression, 'any');
      if ('problem' in rule) return `${at}.variables ${variable.name}: ${rule.problem}`;
      variables.push({ name: variable.name, expression: rule.expression });
    }
    const validations: IssuerRules['validations'] = [];
    for (const [position, validation] of provider.validations.entries()) {
      const rule = filters.compileClaimRule(validation.expression, 'bool');
      if ('problem' in rule) return `${at}.validations[${position}]: ${rule.problem}`;
      validations.push({ expression: rule.expression, message: validation.message });
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
      const failed = await checkClaims(rules, verdict.claims ?? {}, evaluator);
      return failed === undefined ? verdict : { ok: false, reason: failed };
    },
    parse(request, info) {
      const event: Event = { event: EVENT, repositories: [] };
      if (options.readsRequest) contexts.set(event, { req: requestOf(request), claims: info.claims ?? {} });
      return { events: [event] };
    },
    sign: () => ({}),
  };
  return { codec: { codec: codec as ProviderCodec<unknown>, events: new Set([EVENT]), anyEvent: false, contextOf: (event) => contexts.get(event) }, options: undefined, key: byIssuer, verifies: true };
}
