/** Where a provider is served. */
import type { ProviderConfig } from './schema.ts';

/** The route of a provider: its `path`, else `/hook/<name>`. */
export function routeOf(provider: Pick<ProviderConfig, 'name' | 'path'>): string {
  return provider.path ?? `/hook/${provider.name}`;
}
