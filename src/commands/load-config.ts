/** Reads a config file and checks it against the schema, the rules and the available plugins. */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkRules, ConfigError, parseConfig, type CheckedConfig } from '../config/validate.ts';
import { compileMatch } from '../pipeline/match.ts';
import { loadCatalog } from '../plugins/catalog.ts';
import type { ProviderPlugin } from '../plugins/plugin-api.ts';
import { defaultApiVersion } from '../reconcile/kinds.ts';

export interface LoadedConfig extends CheckedConfig {
  plugins: Map<string, ProviderPlugin>;
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ line: 1, col: 1, path: '', message: `cannot read config: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  const checked = parseConfig(text, path);
  // pluginsDir is itself config, so plugins are loaded between the schema check and the rules that name types.
  let plugins: Map<string, ProviderPlugin>;
  try {
    plugins = await loadCatalog(checked.config.pluginsDir, dirname(path));
  } catch (error) {
    const at = checked.source.locate(['pluginsDir']);
    throw new ConfigError(path, [{ ...at, path: 'pluginsDir', message: (error as Error).message }]);
  }
  checkRules(checked, { plugins, defaultApiVersion, compileMatch });
  return { ...checked, plugins };
}
