/** A config text through what `validate --file-only` checks (schema, then the rules with the built-in types), in process. */
import { builtinProviders } from '../../plugins/index.ts';
import { checkRules, ConfigError, parseConfig } from '../../src/config/validate.ts';
import type { Config } from '../../src/config/schema.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import { checkProviders } from '../../src/provider-kit/provider-rules.ts';
import { compileMatch } from '../../src/pipeline/match.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { defaultApiVersion } from '../../src/core/kinds.ts';

const catalog = builtinCatalog(builtinProviders, providerKit);
const context = { defaultApiVersion, compileMatch, more: (config: Config) => checkProviders(config, catalog) };

/** The config `text` says; throws the ConfigError (file `fluxgate.yaml`) when it has problems. */
export function checkConfig(text: string): Config {
  const checked = parseConfig(text, 'fluxgate.yaml');
  checkRules(checked, context);
  return checked.config;
}

/** Each `file:line:col message` line of the ConfigError `text` gets; fails the test when it has none. */
export function configProblems(text: string): string[] {
  try {
    checkConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}
