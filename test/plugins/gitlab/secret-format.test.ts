/** GitLab's signing token: one that could never verify a delivery is refused when the config loads (prepare). */
import { describe, expect, test } from 'bun:test';
import gitlab from '../../../plugins/gitlab/codec.ts';
import { ConfigProblem } from '../../../src/provider-kit/contract.ts';
import { codecOf, keyOf } from '../../support/provider-fixtures.ts';

const codec = codecOf(gitlab);
const token = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;
const problem = (secrets: Record<string, string>) => {
  try {
    keyOf(codec, secrets);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigProblem);
    return { field: (error as ConfigProblem).field, message: (error as Error).message };
  }
  return undefined;
};

describe('gitlab signingSecret format', () => {
  test.each([[24], [32], [64]])('whsec_ and the base64 of %i bytes is accepted', (bytes) => {
    expect(problem({ signingSecret: token(bytes) })).toBeUndefined();
  });

  test.each([
    ['no prefix', Buffer.alloc(32).toString('base64'), 'a signing secret starts with whsec_ (copy it whole, as the sender shows it)'],
    ['not base64', 'whsec_not*base64', 'a signing secret is whsec_ followed by base64, and the rest of this one is not base64'],
    ['nothing after the prefix', 'whsec_', 'a signing secret is whsec_ followed by base64, and the rest of this one is not base64'],
    ['too short', token(16), 'a signing secret is whsec_ followed by the base64 of 24 to 64 bytes, and this one has 16'],
    ['too long', token(65), 'a signing secret is whsec_ followed by the base64 of 24 to 64 bytes, and this one has 65'],
  ])('%s is refused at signingSecret without quoting it', (_name, value, message) => {
    expect(problem({ signingSecret: value })).toEqual({ field: 'signingSecret', message });
    expect(message).not.toContain(value.slice(6, 12) || '\u0000');
  });

  test('the X-Gitlab-Token secret has no format', () => {
    expect(problem({ secret: 'anything at all' })).toBeUndefined();
  });

  test('a token it accepts signs a delivery that the provider verifies', () => {
    const secrets = { signingSecret: token(32) };
    const body = new TextEncoder().encode('{}');
    const now = new Date();
    const headers = new Headers(codec.sign(body, secrets, { now, deliveryId: 'd1', options: undefined }));
    expect(codec.verify({ body, headers }, keyOf(codec, secrets), now)).toEqual({ ok: true, deliveryId: 'd1' });
  });
});
