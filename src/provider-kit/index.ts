/** The face of src/provider-kit/: what the layers above use of it. */
export { builtinCatalog, type Catalog, loadCatalog } from './catalog.ts';
export { ConfigProblem, type DeliveryInfo, type Event, type Ignored, type Parsed, PayloadError, type ProviderCodec, type ProviderFactory, type ProviderSecrets, type VerifiedInfo, type VerifyResult, type WebhookRequest } from './contract.ts';
export { bearerToken } from './credentials.ts';
export { ref, refOf } from './git.ts';
export { GITLAB_EVENT_FLAGS, hookEventsFor, HOST_SPECS, type HostKind, type HostSpec, hostSpecOf } from './host-specs.ts';
export { type PayloadReader, providerKit, type ProviderKit } from './kit.ts';
export { oidcVerifier, type OidcVerifier } from './oidc.ts';
export { checkProviders, optionsOf } from './provider-rules.ts';
export { type Sample, type SampleInput, web } from './sample.ts';
export { printable } from './verdict.ts';
export { verifyRefusesOthers } from './verify-check.ts';
