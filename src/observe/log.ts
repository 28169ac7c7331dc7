/**
 * Structured logs, one JSON object per line on stderr. Fields are whatever the caller passes; callers never
 * pass secrets (the config layer hands plugins resolved secrets, and nothing else sees them).
 *
 * Lines are batched per event-loop turn and written with one syscall: a write per line cost more than the
 * rest of the webhook path together under load. `flush()` writes what is pending (call it before exit).
 */
import { writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  flush(): void;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in order;
}

/** Writes batches to a file descriptor (stderr by default), retrying short writes. */
function fdWriter(fd: number): (text: string) => void {
  return (text) => {
    let buffer = Buffer.from(text);
    while (buffer.length > 0) {
      try {
        buffer = buffer.subarray(writeSync(fd, buffer));
      } catch (error) {
        // A non-blocking pipe that is full: give up on this batch rather than spin.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw error;
      }
    }
  };
}

export function createLogger(options: { level?: LogLevel; write?: (text: string) => void; now?: () => Date } = {}): Logger {
  const threshold = order[options.level ?? 'info'];
  const write = options.write ?? fdWriter(2);
  const now = options.now ?? (() => new Date());
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    write(text);
  };
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (order[level] < threshold) return;
    pending += `${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })}\n`;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), flush };
}
