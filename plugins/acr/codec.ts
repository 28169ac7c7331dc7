/**
 * Azure Container Registry webhooks (registry → Services → Webhooks).
 *
 * - verify: ACR signs nothing; it sends the webhook's "Custom headers" as configured. The header named by
 *   `options.header` (default `Authorization`) must equal the configured `secret`. It authenticates the sender,
 *   not the bytes.
 * - describe: no header names the event; the body's `action` does (`push`, `delete`, `chart_push`, `chart_delete`).
 * - parse: `target.repository` with `request.host` (the registry, e.g. `myregistry.azurecr.io`; chart events have
 *   no `request`), `target.tag`, `target.digest` when it is a well-formed digest. Deletions never match. No header
 *   carries a delivery id: the body's `id` (ACR's event id) is returned as the parsed one, which dedupe then uses.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

interface Options { header?: string }
interface Key { header: string; secret?: string }
const ACTIONS = new Set(['push', 'delete', 'chart_push', 'chart_delete']);

const acr: ProviderFactory = (kit) => ({
  id: 'acr',
  defaultEvents: ['push', 'chart_push'],
  secretFields: ['secret'],
  options: kit.Type.Object(
    { header: kit.Type.Optional(kit.Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$", default: 'Authorization', description: 'the custom header of the ACR webhook that carries the secret' })) },
    { additionalProperties: false },
  ),
  prepare: ({ secret }, options): Key => ({ header: (options as Options).header ?? 'Authorization', secret }),
  describe: () => ({}),
  verify: (request, key: Key) => kit.headerToken(request, key.header, key.secret),
  parse(request) {
    const payload = kit.read(kit.json(request.body));
    const action = payload.string('action');
    if (!ACTIONS.has(action)) return kit.ignore(`ACR action ${kit.printable(action) ?? '(unnamed)'} is not a push or delete`);
    const target = payload.object('target');
    const repository = target.string('repository');
    const host = payload.optionalObject('request')?.optionalString('host');
    const given = target.optionalString('digest');
    const digest = given !== undefined && kit.oci.isDigest(given) ? given : undefined; // Microsoft's example masks it
    const image = { name: host ? `${host}/${repository}` : repository, tag: target.optionalString('tag'), digest };
    // No header names the delivery: the body's id (a UUID) does, unless it is odd or long (dedupe keys, log lines).
    const deliveryId = kit.printable(payload.optionalString('id') ?? '');
    return { events: [kit.imageEvent(action, image, action.endsWith('delete'))], ...(deliveryId && { deliveryId }) };
  },
  sign: (_body, { secret }, { options }) => ({ [(options as Options).header ?? 'Authorization']: secret! }),
});

export default acr;
