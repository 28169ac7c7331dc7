/**
 * What main.ts hands each command it runs: the output and environment, how to report a usage problem (printed
 * with the command's help, exit 2), and the providers compiled in (plugins/ is the composition root's to hand
 * over, loaded only by the commands that need them).
 */
import { existsSync } from 'node:fs';
import type { Invocation, LogLevel } from '../core/index.ts';
import type { BuiltinProvider } from '../provider-kit/index.ts';
import { chooseConfigPath } from './config-path.ts';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** stderr is a terminal: logs are then text, coloured, unless asked otherwise. */
  stderrIsTerminal: boolean;
}

export interface CommandContext {
  io: Io;
  /** Ends the command with a usage problem (`error: …`, the command's help, exit 2). */
  usage(message: string): never;
  builtins(): Promise<readonly BuiltinProvider[]>;
  /** How the user ran fluxgate: messages that name a command name one they can run from where they are. */
  invocation: Invocation;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The level FLUXGATE_LOG_LEVEL asks for (unset or empty: info), or the usage error it is. */
export function logLevel(env: Io['env']): LogLevel | { error: string } {
  const value = env.FLUXGATE_LOG_LEVEL;
  if (value === undefined || value === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  return { error: `FLUXGATE_LOG_LEVEL=${JSON.stringify(value.slice(0, 40))} is not a log level: use one of ${LOG_LEVELS.join(', ')}` };
}

/** The log level, or a usage problem when FLUXGATE_LOG_LEVEL names none. */
export function checkLogLevel(context: CommandContext): LogLevel {
  const level = logLevel(context.io.env);
  if (typeof level !== 'string') context.usage(level.error);
  return level;
}

/** The config file for the command, or a usage problem when there is none. */
export function configPath(context: CommandContext, given: string | undefined): string {
  const chosen = chooseConfigPath(given, context.io.env, existsSync);
  if ('missing' in chosen) context.usage(chosen.missing);
  return chosen.path;
}
