/**
 * Structured logs on stderr, one line per record: a JSON object (`json`, for log collectors) or
 * `HH:MM:SS.mmm LEVEL message key=value …` (`text`, for a person at a terminal, coloured there). Fields are
 * whatever the caller passes; callers never pass secrets (the config layer hands plugins resolved secrets, and
 * nothing else sees them). Field values may come from a webhook payload: a string value is cut to
 * SHOWN_CHARACTERS (so is an error's message), and the text format escapes control characters, line separators
 * and bidirectional controls: a ref cannot move the cursor, recolour a terminal or reorder what follows it.
 *
 * Lines are batched per event-loop turn and written with one syscall: a write per line cost more than the
 * rest of the webhook path together under load. `flush()` writes what is pending (call it before exit).
 */
import { writeSync } from 'node:fs';
import { cutText, escapeUnsafe, SHOWN_CHARACTERS, unsafeCharacter as unsafe } from './shown-text.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

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

/**
 * The format asked for (`--log-format`, else `FLUXGATE_LOG_FORMAT`), else text on a terminal and JSON lines
 * otherwise; or the usage error a bad value is.
 *
 * @example chooseLogFormat(undefined, undefined, process.stderr.isTTY) // 'text' at a terminal, else 'json'
 */
export function chooseLogFormat(flag: string | undefined, env: string | undefined, stderrIsTerminal: boolean): LogFormat | { error: string } {
  const [value, origin] = flag !== undefined ? [flag, '--log-format'] : [env === '' ? undefined : env, 'FLUXGATE_LOG_FORMAT'];
  if (value === undefined) return stderrIsTerminal ? 'text' : 'json';
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  return { error: `${origin}=${JSON.stringify(value.slice(0, 40))} is not a log format: use one of ${LOG_FORMATS.join(', ')}` };
}

const levelColour: Record<LogLevel, string> = { debug: '\x1b[2m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m' };
const dim = '\x1b[2m';
const reset = '\x1b[0m';

/** `text` quoted as JSON, with the characters JSON leaves alone (DEL, C1, separators, bidi) escaped too. */
function quote(text: string): string {
  return escapeUnsafe(JSON.stringify(text));
}

/**
 * `fields` with each string value (and an error's message) cut to SHOWN_CHARACTERS: the same object when none is
 * longer, as on almost every line.
 */
function boundedFields(fields: LogFields | undefined): LogFields | undefined {
  let bounded: LogFields | undefined;
  for (const key in fields) {
    const value = fields[key];
    const text = typeof value === 'string' ? value : value instanceof Error ? value.message : undefined;
    if (text === undefined || text.length <= SHOWN_CHARACTERS) continue;
    bounded ??= { ...fields };
    bounded[key] = cutText(text);
  }
  return bounded ?? fields;
}

/** A bare value when it reads as one (no space, quote, `=`, backslash, unsafe character), else a quoted one. */
function textValue(value: unknown): string {
  const flat = Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null);
  const text = typeof value === 'string' ? value : value instanceof Error ? value.message : flat ? value.join(',') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  return text !== '' && !/[\s"=\\]/.test(text) && !unsafe.test(text) ? text : quote(text);
}

function clock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** One record in the text format: local time, level, message, then the fields in the order given. */
export function textLine(time: Date, level: LogLevel, message: string, fields: LogFields | undefined, colour: boolean): string {
  // The message is the caller's, but may quote input (a config value, an error): escape it like a value, unquoted.
  const safeMessage = unsafe.test(message) ? quote(message).slice(1, -1) : message;
  const label = level.toUpperCase().padEnd(5);
  let line = colour ? `${dim}${clock(time)}${reset} ${levelColour[level]}${label}${reset} ${safeMessage}` : `${clock(time)} ${label} ${safeMessage}`;
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value === undefined) continue;
    line += colour ? ` ${dim}${key}=${reset}${textValue(value)}` : ` ${key}=${textValue(value)}`;
  }
  return line;
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

export interface LoggerOptions {
  level?: LogLevel;
  /** `json` (the default) or `text`. */
  format?: LogFormat;
  /** ANSI colours in the text format (only for a terminal). */
  colour?: boolean;
  write?: (text: string) => void;
  now?: () => Date;
}

/**
 * @example
 * const log = createLogger({ level: 'info', format: chooseLogFormat(undefined, undefined, false) as LogFormat });
 * log.info('fluxgate listening', { address: '127.0.0.1:9292' });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = order[options.level ?? 'info'];
  const text = options.format === 'text';
  const colour = text && options.colour === true;
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
    const bounded = boundedFields(fields);
    pending += text ? `${textLine(now(), level, message, bounded, colour)}\n` : `${JSON.stringify({ time: now().toISOString(), level, msg: message, ...bounded })}\n`;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), flush };
}
