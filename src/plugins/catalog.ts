/**
 * The provider plugins available to a config: the built-in ones plus, when `pluginsDir` is set, one plugin per
 * `.ts`/`.js` file there, loaded the same way (a default export `(host) => ProviderPlugin`).
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinPlugins } from '../../plugins/index.ts';
import { pluginHost } from './host.ts';
import type { PluginFactory, ProviderPlugin } from './plugin-api.ts';

function register(catalog: Map<string, ProviderPlugin>, factory: PluginFactory, origin: string): void {
  const plugin = factory(pluginHost);
  if (!plugin || typeof plugin.id !== 'string' || typeof plugin.verify !== 'function' || typeof plugin.parse !== 'function') {
    throw new Error(`${origin}: the default export must be (host) => ProviderPlugin with id, verify, describe and parse`);
  }
  if (catalog.has(plugin.id)) throw new Error(`${origin}: plugin id "${plugin.id}" is already taken`);
  catalog.set(plugin.id, plugin);
}

export function builtinCatalog(): Map<string, ProviderPlugin> {
  const catalog = new Map<string, ProviderPlugin>();
  for (const factory of builtinPlugins) register(catalog, factory, 'built-in plugin');
  return catalog;
}

/** Built-in plugins plus those in `directory` (relative to the config file's directory). */
export async function loadCatalog(directory: string | undefined, baseDir: string): Promise<Map<string, ProviderPlugin>> {
  const catalog = builtinCatalog();
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
    const module = (await import(path)) as { default?: PluginFactory };
    if (typeof module.default !== 'function') throw new Error(`${path}: no default export (expected (host) => ProviderPlugin)`);
    register(catalog, module.default, path);
  }
  return catalog;
}
