/**
 * The provider contract, the kit every provider (built in or from pluginsDir) receives, the catalog of types,
 * the rules of a provider's config, and the checks a plugin passes before it is loaded; and what a built-in type's
 * folder may add: its sample for `fluxgate send` and its registration on a Git host, with the helpers those use.
 */
export { builtinCatalog, type BuiltinProvider, type Catalog, loadCatalog } from './catalog.ts';
export { ConfigProblem, type DeliveryInfo, type Event, type Ignored, type Parsed, PayloadError, type ProviderCodec, type ProviderSecrets, type VerifiedInfo, type VerifyResult, type WebhookRequest } from './contract.ts';
export { type CommitState, type CommitStatus, type CommitStatusClient, type CommitStatuses, type CommitStatusSpec, type CommitTarget, cutDescription } from './commit-status.ts';
export { bearerToken } from './credentials.ts';
export { ref, refOf } from './git.ts';
export { type FieldChange, type HookHost, type HostFetch, type HostHook, type Scope, type WantedHook } from './hook-host.ts';
export { commonAdvice, HostError, hostError } from './host-error.ts';
export { type PayloadReader, type ProviderFactory, providerKit, type ProviderKit } from './kit.ts';
export { oidcVerifier, type OidcVerifier } from './oidc.ts';
export { checkProviders, optionsOf } from './provider-rules.ts';
export { headerHookEvent, type HookClientOptions, hookEventsFor, type HostSpec, type Registration, type ScopeKey } from './registration.ts';
export { nextLink, restClient, type RestClient } from './rest-client.ts';
export { genericPayload, genericSample, giteaPush, type Sample, type SampleInput, sampleImage, web } from './sample.ts';
export { printable } from './verdict.ts';
export { verifyRefusesOthers } from './verify-check.ts';
