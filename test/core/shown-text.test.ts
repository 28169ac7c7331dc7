/** Values from outside as fluxgate records and shows them: cut to a documented length, marked, and copied. */
import { heapStats } from 'bun:jsc';
import { describe, expect, test } from 'bun:test';
import { cutText, escapeUnsafe, SHOWN_CHARACTERS } from '../../src/core/shown-text.ts';

describe('cutText', () => {
  test('a value up to SHOWN_CHARACTERS is kept as it is', () => {
    const value = 'x'.repeat(SHOWN_CHARACTERS);
    expect(cutText(value)).toBe(value);
    expect(cutText('refs/heads/main')).toBe('refs/heads/main');
  });

  test('a longer one is cut to SHOWN_CHARACTERS in all, and says so with its original length', () => {
    const cut = cutText(`refs/heads/${'b'.repeat(1_300_000)}`);
    expect(cut.length).toBe(SHOWN_CHARACTERS);
    expect(cut).toStartWith('refs/heads/bbb');
    expect(cut).toEndWith('b… (cut from 1300011 characters)');
    expect(cutText(cut)).toBe(cut); // cutting again changes nothing
  });

  test('never half of a surrogate pair', () => {
    const cut = cutText('😀'.repeat(2000));
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(cut.length).toBeLessThanOrEqual(SHOWN_CHARACTERS);
    expect(cut).toEndWith('😀… (cut from 4000 characters)');
  });

  test('the cut value does not keep the long one alive', () => {
    Bun.gc(true);
    const before = heapStats().extraMemorySize;
    const kept: string[] = [];
    // Each long value is made and dropped here; only its cut stays.
    for (let index = 0; index < 40; index += 1) kept.push(cutText(JSON.parse(JSON.stringify(`${index}`.padEnd(1_300_000, 'r'))) as string));
    Bun.gc(true);
    // 40 × 1.3 MB would be 52 MB (104 MB as UTF-16) if each cut shared its characters with its source.
    expect(heapStats().extraMemorySize - before).toBeLessThan(8 * 1024 * 1024);
    expect(kept).toHaveLength(40);
  });
});

describe('escapeUnsafe', () => {
  test('controls, line separators and bidirectional controls become \\uXXXX; other text stays', () => {
    expect(escapeUnsafe('main\u202egnp.exe')).toBe('main\\u202egnp.exe');
    expect(escapeUnsafe('a\u0085b\u009bc\u2028d\u2029e\u200ef\u200fg\u2066h\u2069i\u061cj\u007f')).toBe('a\\u0085b\\u009bc\\u2028d\\u2029e\\u200ef\\u200fg\\u2066h\\u2069i\\u061cj\\u007f');
    expect(escapeUnsafe('refs/heads/ünïcødé-😀')).toBe('refs/heads/ünïcødé-😀');
  });
});
