import { describe, expect, test } from 'bun:test';
import { chooseLogFormat, createLogger, type LoggerOptions } from '../../src/core/log.ts';

// Built from local-time parts, so the expected HH:MM:SS.mmm holds in any time zone.
const at = new Date(2026, 0, 2, 3, 4, 5, 6);

function lines(options: LoggerOptions, emit: (log: ReturnType<typeof createLogger>) => void): string[] {
  const written: string[] = [];
  const log = createLogger({ now: () => at, write: (text) => written.push(text), ...options });
  emit(log);
  log.flush();
  return written.join('').split('\n').slice(0, -1);
}

describe('text format', () => {
  test('HH:MM:SS.mmm LEVEL message key=value, values quoted only when needed, undefined fields left out', () => {
    const [line] = lines({ format: 'text' }, (log) =>
      log.info('webhook accepted', { provider: 'github', targets: ['app', 'web'], status: 202, ok: true, reason: 'no target matches', empty: '', delivery: undefined, equals: 'a=b' }),
    );
    expect(line).toBe('03:04:05.006 INFO  webhook accepted provider=github targets=app,web status=202 ok=true reason="no target matches" empty="" equals="a=b"');
  });

  test('levels are padded and filtered like JSON', () => {
    expect(lines({ format: 'text', level: 'warn' }, (log) => {
      log.info('hidden');
      log.warn('shown');
      log.error('also shown', { error: 'boom' });
    })).toEqual(['03:04:05.006 WARN  shown', '03:04:05.006 ERROR also shown error=boom']);
  });

  test('input that could drive a terminal is escaped: ESC, newlines, C1 controls, bidi overrides', () => {
    const hostile = 'refs/heads/\u001b[2J\u001b]0;owned\u0007main\nfake 00:00:00.000 ERROR line\u009b31m\u202eevil';
    const [line, ...more] = lines({ format: 'text' }, (log) => log.info(`ignored ${hostile}`, { ref: hostile, nested: { ref: hostile } }));
    expect(more).toEqual([]);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(line).toContain('ref="refs/heads/\\u001b[2J\\u001b]0;owned\\u0007main\\nfake 00:00:00.000 ERROR line\\u009b31m\\u202eevil"');
    expect(line).toStartWith('03:04:05.006 INFO  ignored refs/heads/\\u001b[2J');
  });

  test('bidirectional marks and isolates, line and paragraph separators and C1 controls are escaped too', () => {
    const hostile = 'main\u200e\u200f\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u2028\u2029\u0085\u0080\u009f\u061cend';
    const [line, ...more] = lines({ format: 'text' }, (log) => log.info('webhook ignored', { ref: hostile }));
    expect(more).toEqual([]);
    expect(line).not.toMatch(/[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(line).toContain('ref="main\\u200e\\u200f\\u2066\\u2067\\u2068\\u2069\\u202a\\u202b\\u202c\\u202d\\u2028\\u2029\\u0085\\u0080\\u009f\\u061cend"');
  });

  test('a string field (or an error) longer than 1024 characters is cut and marked, in both formats', () => {
    const ref = `refs/heads/${'b'.repeat(100_000)}`;
    const [text] = lines({ format: 'text' }, (log) => log.info('webhook accepted', { ref, error: new Error('e'.repeat(5000)), short: 'main' }));
    expect(text!.length).toBeLessThan(2 * 1024 + 200);
    expect(text).toContain('b… (cut from 100011 characters)" error="eee');
    expect(text).toContain('e… (cut from 5000 characters)" short=main');
    const [json] = lines({ format: 'json' }, (log) => log.info('webhook accepted', { ref, short: 'main' }));
    const parsed = JSON.parse(json!);
    expect(parsed.ref).toHaveLength(1024);
    expect(parsed.ref).toEndWith('… (cut from 100011 characters)');
    expect(parsed.short).toBe('main');
  });

  test('colours only when asked (a terminal), and never in JSON', () => {
    const [plain] = lines({ format: 'text' }, (log) => log.error('patch failed', { object: 'a/b' }));
    const [coloured] = lines({ format: 'text', colour: true }, (log) => log.error('patch failed', { object: 'a/b' }));
    const [json] = lines({ format: 'json', colour: true }, (log) => log.error('patch failed', { object: 'a/b' }));
    expect(plain).not.toContain('\u001b');
    expect(coloured).toBe('\u001b[2m03:04:05.006\u001b[0m \u001b[31mERROR\u001b[0m patch failed \u001b[2mobject=\u001b[0ma/b');
    expect(JSON.parse(json!)).toEqual({ time: at.toISOString(), level: 'error', msg: 'patch failed', object: 'a/b' });
  });
});

describe('choosing the format', () => {
  test('--log-format wins, then FLUXGATE_LOG_FORMAT, then text at a terminal and JSON lines otherwise', () => {
    expect(chooseLogFormat(undefined, undefined, true)).toBe('text');
    expect(chooseLogFormat(undefined, undefined, false)).toBe('json');
    expect(chooseLogFormat(undefined, '', false)).toBe('json');
    expect(chooseLogFormat(undefined, 'text', false)).toBe('text');
    expect(chooseLogFormat(undefined, 'json', true)).toBe('json');
    expect(chooseLogFormat('json', 'text', true)).toBe('json');
    expect(chooseLogFormat('text', 'json', false)).toBe('text');
  });

  test('an unknown format is an error naming the variable and the valid values', () => {
    expect(chooseLogFormat(undefined, 'logfmt', false)).toEqual({ error: 'FLUXGATE_LOG_FORMAT="logfmt" is not a log format: use one of json, text' });
  });
});
