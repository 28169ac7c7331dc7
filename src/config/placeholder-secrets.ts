/**
 * Recognises the stand-in values people leave in a secret ("change-me", "<secret>", "xxxxxxxx"), which are
 * public: anyone could sign a webhook with them. fluxgate refuses them unless nothing would be sent to a cluster.
 */

/** Compared after lower-casing and dropping everything but letters and digits. */
const PLACEHOLDERS = new Set([
  'changeme', 'changeit', 'changethis', 'replaceme', 'replacethis', 'secret', 'secrets', 'password', 'passwd', 'pass',
  'example', 'sample', 'placeholder', 'todo', 'tbd', 'fixme', 'test', 'testing', 'dummy', 'default', 'token', 'key',
  'webhooksecret', 'webhooktoken', 'mysecret', 'yoursecret', 'supersecret', 'topsecret', 'secrettoken', 'secretkey',
  'letmein', 'admin', 'qwerty', 'foo', 'bar', 'foobar', 'none', 'null', 'undefined', 'empty', 'abc', 'abc123',
  '123', '1234', '12345', '123456', '12345678', '123456789', '1234567890',
]);

/** Prefixes that only a stand-in starts with: "change-me-please", "replace_with_the_real_secret", "your-secret-here". */
const PLACEHOLDER_START = /^(changeme|replaceme|replacewith|yoursecret|yourtoken|yourwebhook|insert|placeholder|example)/;

/**
 * Whether `value` is a well-known stand-in rather than a secret: one of a list of stand-in words (any case,
 * punctuation ignored), one character repeated, or nothing but blanks and punctuation.
 *
 * @example
 * isPlaceholderSecret('Change-Me'); // true
 * isPlaceholderSecret('<your-secret-here>'); // true
 * isPlaceholderSecret('9f2c1e7a0b5d4c3e'); // false
 */
export function isPlaceholderSecret(value: string): boolean {
  const letters = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (letters === '') return true;
  if (PLACEHOLDERS.has(letters) || PLACEHOLDER_START.test(letters)) return true;
  return /^(.)\1*$/.test(letters);
}
