/**
 * What a subscriber's token gives both ends of a relay, derived with HMAC-SHA256 under two labels: the credential
 * the agent sends (`Authorization: Bearer …`) and the key the edge signs each event with. The token itself never
 * crosses the wire, so a proxy that sees the credential (a TLS-inspecting one) can read the stream but cannot sign
 * an event the agent would take.
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '../core/index.ts';

export interface RelayKeys {
  /** base64url; what `Authorization: Bearer` carries. */
  credential: string;
  signing: Buffer;
}

/** @example relayKeys(token).credential // 'q3V…' (43 characters) */
export function relayKeys(token: string): RelayKeys {
  return {
    credential: createHmac('sha256', token).update('fluxgate relay v1 credential').digest('base64url'),
    signing: createHmac('sha256', token).update('fluxgate relay v1 signing').digest(),
  };
}

/**
 * The signature of one event: `v1,` and the base64 HMAC-SHA256 of `<id>.<type>.<data>` (id empty for an event
 * without one), so neither the id nor the type can be moved to other data.
 *
 * @example signEvent(keys.signing, 'lqz3k2-42', 'event', '{"provider":"github",…}') // 'v1,Xk…='
 */
export function signEvent(key: Buffer, id: string, type: string, data: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${type}.${data}`).digest('base64')}`;
}

/** Whether `signature` is this key's for the event, compared in constant time. */
export function verifyEvent(key: Buffer, id: string, type: string, data: string, signature: string): boolean {
  return safeEqual(signature, signEvent(key, id, type, data));
}
