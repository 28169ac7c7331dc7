/**
 * The provider types a config may use: the built-in ones the composition root hands in, plus, when `pluginsDir`
 * is set, one provider per `.ts`/`.js` file there, loaded the same way (a default export `(kit) => ProviderCodec`).
 * Nothing here names a concrete provider.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProviderKit } from '../provider-kit/index.ts';
import type { ProviderCodec, ProviderFactory } from './provider.ts';

export type Catalog = ReadonlyMap<string, ProviderCodec<unknown>> & {
  /** The plugin files it was loaded from (absolute), for reload. */
  readonly files: readonly string[];
  /** A digest of each plugin file's content, in `files` order. */
  readonly versions: readonly string[];
  /** pluginsDir (absolute), when set: a file added there is a change too. */
  readonly directory?: string;
};

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
export function builtinCatalog(builtins: readonly ProviderFactory[], kit: ProviderKit): Map<string, ProviderCodec<unknown>> & { files: string[]; versions: string[] } {
  const catalog = Object.assign(new Map<string, ProviderCodec<unknown>>(), { files: [] as string[], versions: [] as string[] });
  for (const factory of builtins) register(catalog, factory, kit, 'built-in provider');
  return catalog;
}

/** The built-ins plus the providers in `directory` (relative to `baseDir`, the config file's directory). */
export async function loadCatalog(builtins: readonly ProviderFactory[], kit: ProviderKit, directory: string | undefined, baseDir: string): Promise<Catalog> {
  const root = directory ? resolve(baseDir, directory) : undefined;
  const catalog = Object.assign(builtinCatalog(builtins, kit), { directory: root });
  if (!root) return catalog;
  let files: string[];
  try {
    files = readdirSync(root).filter((file) => /\.(ts|js|mjs)$/.test(file) && !file.endsWith('.d.ts') && !file.includes('.test.'));
  } catch (error) {
    throw new Error(`pluginsDir ${root}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  for (const file of files.sort()) {
    const path = join(root, file);
    catalog.files.push(path);
    // The module cache keys on the specifier: a changed file gets a new one (so a reload sees it), an unchanged
    // file the same (so reloads do not pile up copies). The plugin's own imports are cached as usual.
    const version = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
    catalog.versions.push(version);
    const module = (await import(`${path}?v=${version}`)) as { default?: ProviderFactory };
    if (typeof module.default !== 'function') throw new Error(`${path}: no default export (expected (kit) => ProviderCodec)`);
    register(catalog, module.default, kit, path);
  }
  return catalog;
}
