/**
 * Structured logs, one JSON object per line on stderr. Fields are whatever the caller passes; callers never
 * pass secrets (the config layer hands plugins resolved secrets, and nothing else sees them).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; now?: () => Date } = {}): Logger {
  const threshold = order[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (order[level] < threshold) return;
    write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: { level: LogLevel; msg: string; [key: string]: unknown }[] } {
  const lines: { level: LogLevel; msg: string }[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
}
