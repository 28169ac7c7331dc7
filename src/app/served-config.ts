/**
 * The config being served and what follows from it: the config file's providers on the route table, and the
 * cluster's Flux Receivers on their own paths (restarted by a reload that changes fluxReceivers or the provider
 * types). A reload replaces it as a whole; what was read once at start-up stays with the caller.
 */
import { annotationFor, defaultApiVersion, type Clock, type Logger } from '../core/index.ts';
import { LARGE_CONFIG_TARGETS } from '../config/index.ts';
import type { KubeClient } from '../kube/index.ts';
import { compileProviders, type RouteTable } from '../pipeline/index.ts';
import type { CelEvaluator, FluxReceivers } from '../receivers/index.ts';
import type { LoadedConfig } from './load-config.ts';

export interface ServedConfigOptions {
  initial: LoadedConfig;
  routes: RouteTable;
  /** The cluster Receivers are read from (the first one), and whether anything is sent to it. */
  primary: { client: KubeClient; dryRun: boolean; name?: string };
  clock: Clock;
  log: Logger;
}

export interface ServedConfig {
  current(): LoadedConfig;
  /** Makes `next` the config served: its providers' routes at once, its Receivers when their inputs changed. */
  apply(next: LoadedConfig): Promise<void>;
  /** Serves the Receivers of the config served at start, once the listeners are up. */
  startReceivers(): Promise<void>;
  receivers(): FluxReceivers | undefined;
  /** Shutdown: the Receivers' watch ends (their routes stay until the listeners close). */
  stopReceivers(): Promise<void>;
  /** Shutdown, after the drain (a filtered delivery still being selected needs it): the CEL worker ends. */
  closeEvaluator(): void;
}

/**
 * @example
 * const served = createServedConfig({ initial: loaded, routes, primary: clusters.primary, clock, log });
 * await served.apply(loaded);
 */
export function createServedConfig(options: ServedConfigOptions): ServedConfig {
  const { routes, clock, log } = options;
  let serving = options.initial;
  let receivers: FluxReceivers | undefined;
  // One CEL evaluator (a worker thread) for the process, made when Receivers are first served: it outlives a
  // reload's watcher, whose routes still evaluate until the new watcher's replace them.
  let evaluator: CelEvaluator | undefined;

  const startReceivers = async (from: LoadedConfig) => {
    if (!from.config.fluxReceivers.enabled) return undefined;
    // Loaded only when enabled: it brings the CEL library.
    const { serveFluxReceivers, createCelEvaluator } = await import('../receivers/index.ts');
    evaluator ??= createCelEvaluator({ clock });
    const { client, dryRun, name } = options.primary;
    return serveFluxReceivers({ config: from.config.fluxReceivers, client, ...(name !== undefined ? { cluster: name } : {}), dryRun, catalog: from.catalog, routes, clock, log, evaluator });
  };

  return {
    current: () => serving,
    async apply(next) {
      const previous = serving;
      routes.replace('config', [...compileProviders(next.config, next.providers, { defaultApiVersion, annotationFor }, next.matchCompiler).values()]);
      serving = next;
      // Loading a large config leaves tens of MiB of garbage (and a reload, the old routes): collected now, before
      // the heap grows around it, the pages go back to the system (RSS with 10,000 targets: 105 → 97 MiB).
      if (next.config.targets.length >= LARGE_CONFIG_TARGETS) Bun.gc(true);
      const receiverInputs = (from: LoadedConfig) => JSON.stringify([from.config.fluxReceivers, from.catalog.versions]);
      if (previous !== next && receiverInputs(previous) !== receiverInputs(next)) {
        // The old watcher's routes stay until the new one replaces them, so a Receiver never 404s in between.
        await receivers?.stop();
        receivers = await startReceivers(next);
        if (!receivers) routes.replace('receivers', []);
      }
    },
    async startReceivers() {
      receivers = await startReceivers(options.initial);
    },
    receivers: () => receivers,
    async stopReceivers() {
      await receivers?.stop();
    },
    closeEvaluator: () => evaluator?.close(),
  };
}
