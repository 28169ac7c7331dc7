/**
 * `fluxgate serve` (the default command): starts the gateway on the config, registers webhooks at start-up when
 * asked (beside serving, never fatal), reloads on SIGHUP, and drains on SIGTERM or SIGINT before it exits.
 */
import { startGateway, type Gateway } from '../app/index.ts';
import { ConfigError } from '../config/index.ts';
import { chooseLogFormat, createLogger, fluxgateVersion, type Logger } from '../core/index.ts';
import { checkLogLevel, configPath, type CommandContext } from './command-context.ts';
import { reportConfigError } from './validate.ts';

export interface ServeFlags {
  config?: string;
  dryRun?: boolean;
  register?: boolean;
  logFormat?: string;
}

/** Serves until a signal stops it; resolves to the exit code (1: the config or the start failed). */
export async function serveCommand(flags: ServeFlags, context: CommandContext): Promise<number> {
  const { io } = context;
  const level = checkLogLevel(context);
  const path = configPath(context, flags.config);
  const format = chooseLogFormat(flags.logFormat, io.env.FLUXGATE_LOG_FORMAT, io.stderrIsTerminal);
  if (typeof format !== 'string') context.usage(format.error);
  // NO_COLOR (no-color.org): any non-empty value turns colours off.
  const log = createLogger({ level, format, colour: io.stderrIsTerminal && !io.env.NO_COLOR });
  let gateway: Gateway;
  try {
    gateway = await startGateway({ configPath: path, builtins: await context.builtins(), version: fluxgateVersion, log, env: io.env, dryRun: flags.dryRun, invocation: context.invocation });
  } catch (error) {
    if (error instanceof ConfigError) reportConfigError(error, io.err);
    else io.err(`fluxgate: ${(error as Error).message}`);
    return 1;
  }
  // Webhook registration at start-up runs beside serving: logged, never fatal. Its host clients are loaded only
  // when some provider asks for it.
  const wantsRegistration = flags.register === true || gateway.config().providers.some((provider) => provider.register?.onStart === true);
  if (wantsRegistration) void registerOnStart(path, flags.register === true, context, log);
  return untilStopped(gateway, log);
}

function registerOnStart(path: string, all: boolean, context: CommandContext, log: Logger): Promise<void> {
  return import('./register.ts')
    .then(async ({ registerOnStart, systemRegisterDeps }) => registerOnStart({ path, builtins: await context.builtins(), env: context.io.env, all, log }, systemRegisterDeps))
    .catch((error: Error) => log.error('webhook registration failed', { error: error.message }));
}

/** Reloads on SIGHUP; on SIGTERM or SIGINT, shuts down and resolves to 0. */
function untilStopped(gateway: Gateway, log: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info('signal received', { signal });
      void gateway.shutdown().then(() => {
        log.flush();
        resolve(0);
      });
    };
    // SIGHUP reloads the config (without a handler it would end the process).
    const reload = () => {
      log.info('signal received', { signal: 'SIGHUP' });
      void gateway.reload('SIGHUP');
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
