/**
 * The routes fluxgate serves, from several sources (the config file; later the cluster's Flux Receivers), each
 * replaced as a whole when it changes. A request looks its provider up once and keeps that runtime to the end,
 * so a delivery being read finishes with the provider it started with; a replacement is atomic (one swap of a
 * map), so no request ever sees half of a change.
 */
import type { ProviderRuntime } from './compile.ts';

/** A route two sources both want: the earlier source in the table's order keeps it. */
export interface RouteConflict {
  route: string;
  /** The source that serves the route, and its provider. */
  kept: { source: string; provider: string };
  /** The source whose provider is not served at this route. */
  refused: { source: string; provider: string };
}

export interface RouteTable {
  /** The provider at this path, if any. */
  get(route: string): ProviderRuntime | undefined;
  /** Every provider served, in source order. */
  all(): ProviderRuntime[];
  /**
   * Replaces every route of `source` (one of the names the table was created with). Returns the conflicts
   * of the whole table after the change: routes one source holds and another also wants.
   */
  replace(source: string, providers: readonly ProviderRuntime[]): RouteConflict[];
  conflicts(): RouteConflict[];
}

/**
 * @example
 * const routes = createRouteTable(['config', 'receivers']);
 * routes.replace('config', [...compileProviders(config, prepared, defaults).values()]);
 * routes.get('/hook/github'); // the github provider's runtime
 */
export function createRouteTable(sources: readonly string[]): RouteTable {
  const bySource = new Map<string, readonly ProviderRuntime[]>(sources.map((source) => [source, []]));
  let merged = new Map<string, ProviderRuntime>();
  let conflicts: RouteConflict[] = [];

  function rebuild(): void {
    const next = new Map<string, { source: string; provider: ProviderRuntime }>();
    const found: RouteConflict[] = [];
    for (const [source, providers] of bySource) {
      for (const provider of providers) {
        const holder = next.get(provider.route);
        if (holder) found.push({ route: provider.route, kept: { source: holder.source, provider: holder.provider.name }, refused: { source, provider: provider.name } });
        else next.set(provider.route, { source, provider });
      }
    }
    merged = new Map([...next].map(([route, entry]) => [route, entry.provider]));
    conflicts = found;
  }

  return {
    get: (route) => merged.get(route),
    all: () => [...merged.values()],
    replace(source, providers) {
      if (!bySource.has(source)) throw new Error(`unknown route source ${source}`);
      bySource.set(source, providers);
      rebuild();
      return conflicts;
    },
    conflicts: () => conflicts,
  };
}
