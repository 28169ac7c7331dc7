/** GitLab's checkSecret: a signing token that could never verify a delivery is refused when the config loads. */
import { describe, expect, test } from 'bun:test';
import { builtinCatalog } from '../../src/plugins/catalog.ts';

const gitlab = builtinCatalog().get('gitlab')!;
const token = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;

describe('gitlab signingSecret format', () => {
  test.each([[24], [32], [64]])('whsec_ and the base64 of %i bytes is accepted', (bytes) => {
    expect(gitlab.checkSecret!('signingSecret', token(bytes))).toBeUndefined();
  });

  test.each([
    ['no prefix', Buffer.alloc(32).toString('base64'), 'a GitLab signing token starts with whsec_ (copy it whole, as GitLab shows it)'],
    ['not base64', 'whsec_not*base64', 'a GitLab signing token is whsec_ followed by base64, and the rest of this one is not base64'],
    ['nothing after the prefix', 'whsec_', 'a GitLab signing token is whsec_ followed by base64, and the rest of this one is not base64'],
    ['too short', token(16), "a GitLab signing token is whsec_ followed by the base64 of 24 to 64 bytes (GitLab's have 32), and this one has 16"],
    ['too long', token(65), "a GitLab signing token is whsec_ followed by the base64 of 24 to 64 bytes (GitLab's have 32), and this one has 65"],
  ])('%s is refused without quoting it', (_name, value, message) => {
    expect(gitlab.checkSecret!('signingSecret', value)).toBe(message);
    expect(message).not.toContain(value.slice(6, 12) || '\u0000');
  });

  test('the X-Gitlab-Token secret has no format', () => {
    expect(gitlab.checkSecret!('secret', 'anything at all')).toBeUndefined();
  });

  test('a token it accepts signs a delivery that the plugin verifies', () => {
    const secrets = { signingSecret: token(32) };
    const body = new TextEncoder().encode('{}');
    const now = new Date();
    const headers = new Headers(gitlab.sign(body, secrets, { now, deliveryId: 'd1' }));
    expect(gitlab.verify({ body, headers }, secrets, now)).toEqual({ ok: true, deliveryId: 'd1' });
  });
});
