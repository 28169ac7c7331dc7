/**
 * The provider contract, the kit every provider (built in or from pluginsDir) receives, the catalog of types,
 * the rules of a provider's config, and the checks a plugin passes before it is loaded.
 */
export { builtinCatalog, type Catalog, loadCatalog } from './catalog.ts';
export { ConfigProblem, type DeliveryInfo, type Event, type Ignored, type Parsed, PayloadError, type ProviderCodec, type ProviderSecrets, type VerifiedInfo, type VerifyResult, type WebhookRequest } from './contract.ts';
export { bearerToken } from './credentials.ts';
export { ref, refOf } from './git.ts';
export { GITLAB_EVENT_FLAGS, hookEventsFor, HOST_SPECS, type HostKind, type HostSpec, hostSpecOf } from './host-specs.ts';
export { type PayloadReader, type ProviderFactory, providerKit, type ProviderKit } from './kit.ts';
export { oidcVerifier, type OidcVerifier } from './oidc.ts';
export { checkProviders, optionsOf } from './provider-rules.ts';
export { type Sample, type SampleInput, web } from './sample.ts';
export { printable } from './verdict.ts';
export { verifyRefusesOthers } from './verify-check.ts';
