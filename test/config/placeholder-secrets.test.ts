import { describe, expect, test } from 'bun:test';
import { isPlaceholderSecret } from '../../src/config/placeholder-secrets.ts';

describe('placeholder secrets', () => {
  test.each([
    'change-me', 'changeme', 'CHANGE_ME', 'Change Me', 'change-me-please', 'changeit', 'replace-me', 'replace_with_your_secret',
    'secret', '<secret>', '${SECRET}', 'password', 'example', 'placeholder', 'TODO', 'test', 'your-webhook-secret-here',
    'mysecret', 'supersecret', 'xxxxxxxx', '00000000', '123456', '   ', '----',
  ])('%p is a placeholder', (value) => {
    expect(isPlaceholderSecret(value)).toBe(true);
  });

  test.each(['9f2c1e7a0b5d4c3e', 'gh-secret-4f1c9a', 'correct horse battery staple', 'whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=', 'secret-8d3f0a'])(
    '%p is not',
    (value) => {
      expect(isPlaceholderSecret(value)).toBe(false);
    },
  );
});
