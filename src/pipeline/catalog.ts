/**
 * The provider types a config may use: the built-in ones the composition root hands in, plus, when `pluginsDir`
 * is set, one provider per `.ts`/`.js` file there, loaded the same way (a default export `(kit) => ProviderCodec`).
 * Nothing here names a concrete provider.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProviderKit } from '../provider-kit/index.ts';
import type { ProviderCodec, ProviderFactory } from './provider.ts';

export type Catalog = ReadonlyMap<string, ProviderCodec<unknown>>;

function register(catalog: Map<string, ProviderCodec<unknown>>, factory: ProviderFactory, kit: ProviderKit, origin: string): void {
  const codec = factory(kit) as ProviderCodec<unknown>;
  const complete =
    codec && typeof codec.id === 'string' && Array.isArray(codec.defaultEvents) && Array.isArray(codec.secretFields) && ['describe', 'verify', 'parse', 'sign'].every((member) => typeof (codec as unknown as Record<string, unknown>)[member] === 'function');
  if (!complete) throw new Error(`${origin}: the default export must be (kit) => ProviderCodec with id, defaultEvents, secretFields, describe, verify, parse and sign`);
  if (catalog.has(codec.id)) throw new Error(`${origin}: provider type "${codec.id}" is already taken`);
  catalog.set(codec.id, codec);
}

/**
 * @example const catalog = builtinCatalog(builtinProviders, providerKit); catalog.get('github')!.verify(…)
 */
export function builtinCatalog(builtins: readonly ProviderFactory[], kit: ProviderKit): Map<string, ProviderCodec<unknown>> {
  const catalog = new Map<string, ProviderCodec<unknown>>();
  for (const factory of builtins) register(catalog, factory, kit, 'built-in provider');
  return catalog;
}

/** The built-ins plus the providers in `directory` (relative to `baseDir`, the config file's directory). */
export async function loadCatalog(builtins: readonly ProviderFactory[], kit: ProviderKit, directory: string | undefined, baseDir: string): Promise<Map<string, ProviderCodec<unknown>>> {
  const catalog = builtinCatalog(builtins, kit);
  if (!directory) return catalog;
  const root = resolve(baseDir, directory);
  let files: string[];
  try {
    files = readdirSync(root).filter((file) => /\.(ts|js|mjs)$/.test(file) && !file.endsWith('.d.ts') && !file.includes('.test.'));
  } catch (error) {
    throw new Error(`pluginsDir ${root}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  for (const file of files.sort()) {
    const path = join(root, file);
    const module = (await import(path)) as { default?: ProviderFactory };
    if (typeof module.default !== 'function') throw new Error(`${path}: no default export (expected (kit) => ProviderCodec)`);
    register(catalog, module.default, kit, path);
  }
  return catalog;
}
