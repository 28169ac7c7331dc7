/** `fluxgate validate --config FILE`: every problem as `file:line:col message`; exit 1 if there is any. */
import { ConfigError } from '../config/validate.ts';
import { loadConfigFile } from './load-config.ts';

export async function runValidate(configPath: string, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  try {
    const { config } = await loadConfigFile(configPath);
    out(`${configPath}: ok (${config.providers.length} providers, ${config.targets.length} targets)`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(error.message);
    err(`${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} in ${configPath}`);
    return 1;
  }
}
