/**
 * `fluxgate validate [FILE]`: loads the config exactly as `serve` does, minus the network, and prints every
 * problem as `file:line:col path: message` (exit 1), or what serve would run (exit 0).
 */
import { ConfigError, plural } from '../config/index.ts';
import { loadConfigFile, type LoadOptions } from '../app/index.ts';
import { checkLogLevel, configPath, type CommandContext } from './command-context.ts';

export async function runValidate(options: LoadOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  try {
    const loaded = await loadConfigFile(options);
    const providers = loaded.config.providers.length;
    const targets = loaded.config.targets.length;
    const counts = `${providers} ${plural(providers, 'provider')}, ${targets} ${plural(targets, 'target')}`;
    if (!('kube' in loaded)) {
      out(`${options.path}: ok (${counts}; secrets, TLS files and Kubernetes not checked)`);
      return 0;
    }
    if (loaded.clusters) {
      out(`${options.path}: ok (${counts}; ${loaded.clusters.length} ${plural(loaded.clusters.length, 'cluster')})`);
      for (const { name, kube } of loaded.clusters) out(`cluster ${name}: ${kube.mode}: ${kube.describe}`);
      return 0;
    }
    out(`${options.path}: ok (${counts}; kubernetes ${loaded.kube.mode}: ${loaded.kube.describe})`);
    if (loaded.kube.warning) out(`note: ${loaded.kube.warning}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(error, err);
    return 1;
  }
}

/** The problems of a config, then how many there are: what `validate` and `serve` both print. */
export function reportConfigError(error: ConfigError, err: (line: string) => void): void {
  err(error.message);
  err(`${error.count} ${plural(error.count, 'problem')} in ${error.file}`);
}

export interface ValidateFlags {
  config?: string;
  dryRun?: boolean;
  fileOnly?: boolean;
}

/** `fluxgate validate [FILE]` from its command line: FILE or --config, not two different ones. */
export async function validateCommand(file: string | undefined, flags: ValidateFlags, context: CommandContext): Promise<number> {
  checkLogLevel(context);
  if (file && flags.config && file !== flags.config) context.usage('give the config file once: as FILE or as --config FILE');
  const path = configPath(context, file ?? flags.config);
  return runValidate({ path, builtins: await context.builtins(), env: context.io.env, dryRun: flags.dryRun, fileOnly: flags.fileOnly, configFromPipe: true, invocation: context.invocation }, context.io.out, context.io.err);
}
