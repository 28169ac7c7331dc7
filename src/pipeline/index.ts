/**
 * The webhook path after HTTP: describe, verify, parse, match targets (and discovery's objects), and the
 * decision — answered once the journal has kept what it owes.
 */
export { type AcceptedDelivery, type Acceptor, type AcceptOutcome } from './acceptance.ts';
export { addressBlocks, type CompiledTarget, compileProviders, compileSelector, compileSourceTargets, type PreparedProvider, type ProviderRuntime } from './compile.ts';
export { type DiscoveredRequest, type DiscoveryResult } from './discovered.ts';
export { explainDelivery, explainEvents, type Explanation } from './explain.ts';
export { handleWebhook, type WebhookAnswer, type WebhookDeps } from './handle-webhook.ts';
export { matchTargets } from './match-targets.ts';
export { type RelayEvent, type RelayFilter, type RelayPublication, subscribersOf } from './relay-port.ts';
export { normalizeImage } from './image-ref.ts';
export { compileMatch, createMatchCompiler, type MatchCompiler, type MatchResult, shown } from './match.ts';
export { normalizeRepository } from './repository-url.ts';
export { createRouteTable, type RouteConflict, type RouteTable } from './route-table.ts';
export { type TargetIndex } from './target-index.ts';
export { type ProviderIdentity, type WebhookReporter } from './webhook-reporter.ts';
