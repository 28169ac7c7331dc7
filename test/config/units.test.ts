import { describe, expect, test } from 'bun:test';
import { durationMs, formatDuration, formatSize, sizeBytes } from '../../src/config/units.ts';

describe('units', () => {
  test.each([
    ['250ms', 250],
    ['2s', 2000],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ])('duration %s = %i ms', (text, ms) => expect(durationMs(text)).toBe(ms));

  test.each([
    ['512KiB', 524_288],
    ['25MiB', 26_214_400],
    ['1GiB', 1_073_741_824],
    ['1000', 1000],
    ['2MB', 2_000_000],
  ])('size %s = %i bytes', (text, bytes) => expect(sizeBytes(text)).toBe(bytes));

  test('malformed values are refused with the expected form', () => {
    expect(() => durationMs('10')).toThrow('use e.g. 250ms, 2s, 5m');
    expect(() => sizeBytes('25 MiB')).toThrow('use e.g. 512KiB, 25MiB');
  });
});

describe('formatting back', () => {
  test.each([
    [250, '250ms'],
    [2000, '2s'],
    [1500, '1500ms'],
    [300_000, '5m'],
    [7_200_000, '2h'],
  ])('%i ms = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(durationMs(text)).toBe(ms);
  });
  test.each([
    [26_214_400, '25MiB'],
    [3 * 1024 ** 3, '3GiB'],
    [1000, '1000'],
  ])('%i bytes = %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(sizeBytes(text)).toBe(bytes);
  });
});
