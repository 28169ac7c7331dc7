/** The face of src/app/: what the layers above use of it. */
export { loadConfigFile, type LoadedConfig, type LoadedFile, type LoadOptions } from './load-config.ts';
export { startGateway, type Gateway, type GatewayOptions } from './gateway.ts';
