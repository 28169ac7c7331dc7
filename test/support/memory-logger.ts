/** A logger that keeps parsed lines in memory, for tests. */
import { createLogger, type Logger, type LogLevel } from '../../src/core/log.ts';

export type MemoryLogger = Logger & { lines: { level: LogLevel; msg: string; [key: string]: unknown }[] };

export function memoryLogger(): MemoryLogger {
  const lines: { level: LogLevel; msg: string }[] = [];
  const logger = createLogger({ level: 'debug', write: (text) => lines.push(...text.trimEnd().split('\n').map((line) => JSON.parse(line))) });
  // Tests read lines right after the call that logs them.
  const eager = { ...logger };
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    eager[level] = (message, fields) => {
      logger[level](message, fields);
      logger.flush();
    };
  }
  return Object.assign(eager, { lines });
}
