/**
 * The kit's one-pass string helpers: they answer what the patterns they replace answered (checked against those
 * patterns on every short string of the characters that matter), and a long run that made the patterns
 * backtrack is one pass (the timeout only catches a blow-up).
 */
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { withoutReference } from '../../src/provider-kit/images.ts';
import { trimTrailing } from '../../src/provider-kit/strings.ts';

const RUN = 128 * 1024;
const shortStrings = (characters: string[]) => fc.string({ unit: fc.constantFrom(...characters), maxLength: 24 });

describe('oci.withoutReference', () => {
  test.each([
    ['harbor.example.com:8443/library/nginx:1.27', 'harbor.example.com:8443/library/nginx'],
    ['ghcr.io/org/app@sha256:0123abcd', 'ghcr.io/org/app'],
    ['ghcr.io/org/app:1.0@sha256:0123abcd', 'ghcr.io/org/app'],
    ['registry.example.com:5000/team/api', 'registry.example.com:5000/team/api'],
    ['nginx:latest', 'nginx'],
    ['nginx', 'nginx'],
    ['', ''],
  ])('%s → %s', (reference, name) => {
    expect(withoutReference(reference)).toBe(name);
  });

  test('answers as /[:@][^/]*$/ did, on every short string of a, /, : and @', () => {
    fc.assert(fc.property(shortStrings(['a', '/', ':', '@']), (reference) => withoutReference(reference) === reference.replace(/[:@][^/]*$/, '')), { seed: 1, numRuns: 2000 });
  });

  test('128 Ki colons and a slash: one pass', () => {
    expect(withoutReference(`${':'.repeat(RUN)}/app:1`)).toBe(`${':'.repeat(RUN)}/app`);
  }, 5_000);
});

describe('trimTrailing', () => {
  test.each([
    ['https://git.example.com//', 'https://git.example.com'],
    ['https://git.example.com', 'https://git.example.com'],
    ['///', ''],
    ['', ''],
  ])('%s → %s', (value, trimmed) => {
    expect(trimTrailing(value, '/')).toBe(trimmed);
  });

  test('answers as /\\/+$/ did, on every short string of a and /', () => {
    fc.assert(fc.property(shortStrings(['a', '/']), (value) => trimTrailing(value, '/') === value.replace(/\/+$/, '')), { seed: 1, numRuns: 2000 });
  });

  test('128 Ki slashes and a letter: one pass', () => {
    const value = `${'/'.repeat(RUN)}x`;
    expect(trimTrailing(value, '/')).toBe(value);
  }, 5_000);
});
