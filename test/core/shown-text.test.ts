/** Values from outside as fluxgate logs and shows them: what a terminal or a browser would act on is made visible. */
import { describe, expect, test } from 'bun:test';
import { escapeUnsafe } from '../../src/core/shown-text.ts';

describe('escapeUnsafe', () => {
  test('controls, line separators and bidirectional controls become \\uXXXX; other text stays', () => {
    expect(escapeUnsafe('main\u202egnp.exe')).toBe('main\\u202egnp.exe');
    expect(escapeUnsafe('a\u0085b\u009bc\u2028d\u2029e\u200ef\u200fg\u2066h\u2069i\u061cj\u007f')).toBe('a\\u0085b\\u009bc\\u2028d\\u2029e\\u200ef\\u200fg\\u2066h\\u2069i\\u061cj\\u007f');
    expect(escapeUnsafe('refs/heads/ünïcødé-😀')).toBe('refs/heads/ünïcødé-😀');
  });
});
