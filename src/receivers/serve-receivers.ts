/**
 * `fluxReceivers` in `serve`: starts the Receiver watcher for one cluster connection, or says why it cannot.
 * Imported only when enabled, so a gateway without Receivers never loads the CEL library.
 */
import type { FluxReceiversConfig } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { Catalog } from '../provider-kit/index.ts';
import type { RouteTable } from '../pipeline/index.ts';
import type { Clock } from '../core/index.ts';
import type { KubeClient } from '../kube/index.ts';
import { findMissingPermissions } from '../kube/index.ts';
import { createInformer } from '../kube/index.ts';
import type { CelEvaluator } from './cel-evaluator.ts';
import { watchFluxReceivers, type FluxReceivers } from './watcher.ts';

export { createCelEvaluator } from './cel-evaluator.ts';

export interface ServeReceiversOptions {
  config: FluxReceiversConfig;
  /** The cluster's client (`kubernetes:`); in dry-run there is no cluster to read Receivers from. */
  client: KubeClient;
  /** With `clusters:`, the name of the cluster `client` reaches (the first one listed). */
  cluster?: string;
  dryRun: boolean;
  catalog: Catalog;
  routes: Pick<RouteTable, 'replace'>;
  clock: Clock;
  log: Logger;
  /** Where the Receivers' CEL runs; the caller owns it (it outlives a reload's watcher). */
  evaluator: CelEvaluator;
}

/**
 * @example
 * const receivers = serveFluxReceivers({ config: config.fluxReceivers, client, dryRun, catalog: loaded.catalog, routes, clock, log, evaluator });
 * // at shutdown or reload:
 * await receivers?.stop();
 */
export function serveFluxReceivers(options: ServeReceiversOptions): FluxReceivers | undefined {
  const { config, client, log } = options;
  if (options.dryRun) {
    log.warn('fluxReceivers is enabled but fluxgate runs in dry-run: there is no cluster to read Receivers from, none is served');
    return undefined;
  }
  const receivers = watchFluxReceivers({
    api: client.api,
    catalog: options.catalog,
    routes: options.routes,
    ...(config.namespaces ? { namespaces: config.namespaces } : {}),
    writeStatus: config.writeStatus,
    crossNamespaceRefs: config.crossNamespaceRefs,
    strict: config.strict,
    secretRefreshMs: config.secretRefresh,
    clock: options.clock,
    log,
    createInformer,
    evaluator: options.evaluator,
    ...(options.cluster !== undefined ? { cluster: options.cluster } : {}),
    missingPermissions: (selectors) => findMissingPermissions(client, selectors),
  });
  receivers.start();
  log.info('serving Flux Receivers', { namespaces: config.namespaces ?? 'all', writeStatus: config.writeStatus, secretRefreshMs: config.secretRefresh });
  return receivers;
}
