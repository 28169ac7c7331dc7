/**
 * The cluster's Flux Receivers served on their own hashed paths: watched, compiled into providers, their CEL
 * filters run in a bounded worker.
 */
export { type CelEvaluator } from './cel-evaluator.ts';
export { type ImportedReceiver, receiversAsConfig } from './config-export.ts';
export { readReceiver, RECEIVER_API_VERSION, RECEIVER_KIND } from './receiver-spec.ts';
export { createCelEvaluator, serveFluxReceivers } from './serve-receivers.ts';
export { type FluxReceivers } from './watcher.ts';
