/**
 * The composition root: loads the config, connects the clusters, opens the store, wires pipeline, reconcile and
 * observers, serves both listeners, and reloads. Nothing else creates long-lived state.
 */
export { loadConfigFile, type LoadedConfig, type LoadedFile, type LoadOptions } from './load-config.ts';
export { type Gateway, type GatewayOptions } from './gateway.ts';
export { startGateway } from './start-gateway.ts';
