import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { signStandardWebhook, standardWebhooksKey, verifyStandardWebhook } from '../../src/provider-kit/standard-webhooks.ts';

const rawKey = Buffer.from('0123456789abcdef0123456789abcdef');
const secret = `whsec_${rawKey.toString('base64')}`;
const body = new TextEncoder().encode('{"object_kind":"push"}');
const now = new Date(Date.UTC(2031, 4, 6, 7, 8, 9));
const seconds = Math.floor(now.getTime() / 1000);
/** Signed independently of the module under test. */
const signature = (id: string, timestamp: number, data = body) => createHmac('sha256', rawKey).update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), data])).digest('base64');
const request = (headers: Record<string, string>) => ({ body, headers: new Headers(headers) });
const headers = (overrides: Record<string, string> = {}, timestamp = seconds) => ({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature('msg_1', timestamp)}`, ...overrides });

describe('standardWebhooksKey', () => {
  test('decodes whsec_ + base64 of 24 to 64 bytes', () => {
    expect(Buffer.from(standardWebhooksKey(secret))).toEqual(rawKey);
  });
  test.each([
    ['no prefix', 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', 'a signing secret starts with whsec_ (copy it whole, as the sender shows it)'],
    ['not base64', 'whsec_not base64!', 'a signing secret is whsec_ followed by base64, and the rest of this one is not base64'],
    ['too short', `whsec_${Buffer.from('short').toString('base64')}`, 'a signing secret is whsec_ followed by the base64 of 24 to 64 bytes, and this one has 5'],
  ])('%s is refused without echoing it', (_name, value, message) => {
    expect(() => standardWebhooksKey(value, 'signingSecret')).toThrow(message);
    try {
      standardWebhooksKey(value);
    } catch (error) {
      expect((error as Error).message).not.toContain(value);
    }
  });
});

describe('verifyStandardWebhook', () => {
  const key = standardWebhooksKey(secret);
  test.each<[string, Record<string, string>, number | undefined, string | undefined]>([
    ['fresh', {}, undefined, undefined],
    ['a rotation: the second of two signatures matches', { 'webhook-signature': `v1,${signature('msg_1', seconds, new Uint8Array([1]))} v1,${signature('msg_1', seconds)}` }, undefined, undefined],
    ['v1a entries are skipped', { 'webhook-signature': `v1a,xyz v1,${signature('msg_1', seconds)}` }, undefined, undefined],
    ['5 minutes old is still fine', {}, seconds - 300, undefined],
    ['more than 5 minutes old', {}, seconds - 301, 'webhook-timestamp is more than 5 minutes old'],
    ['more than 5 minutes ahead', {}, seconds + 301, 'webhook-timestamp is more than 5 minutes in the future'],
    ['no v1 entry', { 'webhook-signature': 'v2,abc' }, undefined, 'webhook-signature has no v1 signature'],
    ['another id than signed', { 'webhook-id': 'msg_2' }, undefined, 'signature does not match'],
    ['timestamp not a number', { 'webhook-timestamp': '12e3' }, undefined, 'webhook-timestamp is not a unix time in seconds'],
  ])('%s', (_name, overrides, timestamp, reason) => {
    const verdict = verifyStandardWebhook(request(headers(overrides, timestamp ?? seconds)), key, now);
    expect(verdict).toEqual(reason === undefined ? { ok: true, deliveryId: overrides['webhook-id'] ?? 'msg_1' } : { ok: false, reason });
  });

  test.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('missing %s', (name) => {
    const all = headers();
    delete (all as Record<string, string>)[name];
    expect(verifyStandardWebhook(request(all), key, now)).toEqual({ ok: false, reason: `missing ${name} header` });
  });

  test('sign makes the headers verify accepts', () => {
    expect(verifyStandardWebhook(request(signStandardWebhook(body, key, 'msg_9', now)), key, now)).toEqual({ ok: true, deliveryId: 'msg_9' });
  });
});
