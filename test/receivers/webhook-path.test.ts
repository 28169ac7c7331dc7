/** The Receiver's route, as notification-controller computes it (api/v1 Receiver.GetWebhookPath). */
import { describe, expect, test } from 'bun:test';
import { receiverPath, shortPath } from '../../src/receivers/webhook-path.ts';

describe('receiverPath', () => {
  test('/hook/ + hex SHA-256 of token, name and namespace joined with no separator', () => {
    // printf '%s' 'tokenreceiverflux-system' | sha256sum
    expect(receiverPath('token', 'receiver', 'flux-system')).toBe('/hook/82c055fa0743ee447b0870be16fa51a43bb6604b21ef8fae7ccf02bdc860b0f9');
  });

  test('a generic-oidc Receiver has no token: name and namespace alone', () => {
    // printf '%s' 'oidcapps' | sha256sum
    expect(receiverPath('', 'oidc', 'apps')).toBe(`/hook/${new Bun.CryptoHasher('sha256').update('oidcapps').digest('hex')}`);
  });

  test('the token is read as UTF-8', () => {
    expect(receiverPath('tökén', 'r', 'ns')).toBe(`/hook/${new Bun.CryptoHasher('sha256').update(Buffer.from('tökénrns', 'utf8')).digest('hex')}`);
  });
});

test('shortPath shows six hex digits of the 64', () => {
  expect(shortPath('/hook/82c055fa0743ee447b0870be16fa51a43bb6604b21ef8fae7ccf02bdc860b0f9')).toBe('/hook/82c055…');
});
