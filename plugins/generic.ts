/**
 * `generic`: unsigned deliveries. `verify` accepts everything; the config layer only allows this plugin for a
 * provider with `allowUnsigned: true`, where the unguessable route name (`/hook/<name>`) is the only secret.
 * Prefer `generic-hmac` wherever the sender can sign. Payload shape and headers: see `generic-payload.ts`.
 */
import type { PluginHost, ProviderPlugin, VerifyResult } from '../src/plugins/plugin-api.ts';
import { createGenericPayload } from './generic-payload.ts';

const OK: VerifyResult = { ok: true };

export default function createGenericPlugin(host: PluginHost): ProviderPlugin {
  const payload = createGenericPayload(host);
  return {
    id: 'generic',
    defaultEvents: ['push'],
    supportsUnsigned: true,
    secretFields: [],
    verify: () => OK,
    describe: payload.describe,
    parse: payload.parse,
    sample: payload.sample,
    sign: () => ({}),
  };
}
