/**
 * `generic`: fluxgate's own payload with no signature. Its describe and parse are the generic payload's
 * (test/support/generic-payload-cases.ts), as for `generic-hmac`.
 */
import { describe, expect, test } from 'bun:test';
import generic from '../../../plugins/generic/codec.ts';
import type { WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { providerKit } from '../../../src/provider-kit/kit.ts';
import { drive } from '../../support/codec-adapter.ts';
import { genericPayloadCases } from '../../support/generic-payload-cases.ts';

const unsignedPlugin = Object.assign(drive(generic), { id: 'generic' });
const NOW = new Date('2025-11-04T12:00:00Z');
const encoder = new TextEncoder();

function request(body: string | Uint8Array, headers: Record<string, string> = {}): WebhookRequest {
  return { body: typeof body === 'string' ? encoder.encode(body) : body, headers: new Headers(headers) };
}

describe('generic (unsigned)', () => {
  test('reads no secret (so a provider of it needs allowUnsigned), accepts anything, signs nothing', () => {
    expect(generic(providerKit).secretFields).toEqual([]);
    expect(generic(providerKit).keyless).toBeFalsy();
    expect(unsignedPlugin.verify(request('{}'), {}, NOW)).toEqual({ ok: true });
    expect(unsignedPlugin.sign(encoder.encode('{}'), { secret: 'ignored' })).toEqual({});
  });
});

genericPayloadCases(unsignedPlugin);
