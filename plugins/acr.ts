/**
 * Azure Container Registry webhooks (registry → Services → Webhooks).
 *
 * - verify: ACR signs nothing; it sends the webhook's "Custom headers" as configured. The header named by
 *   `options.header` (default `Authorization`) must equal the configured `secret`. It authenticates the sender,
 *   not the bytes. An authenticated delivery's body `id` (ACR's event id) is returned as the delivery id, since no
 *   header carries one: that is how dedupe gets it.
 * - describe: no header names the event; the body's `action` does (`push`, `delete`, `chart_push`, `chart_delete`).
 * - parse: `target.repository` with `request.host` (the registry, e.g. `myregistry.azurecr.io`; chart events have
 *   no `request`), `target.tag`, `target.digest` when it is a well-formed digest. Deletions never match.
 */
import type { ProviderFactory } from '../src/pipeline/provider.ts';

interface AcrKey {
  header: string;
  secret?: string;
}
const ACTIONS = new Set(['push', 'delete', 'chart_push', 'chart_delete']);

const acr: ProviderFactory = (kit) => {
  const options = kit.Type.Object(
    {
      header: kit.Type.Optional(
        kit.Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$", default: 'Authorization', description: 'the custom header of the ACR webhook that carries the secret' }),
      ),
    },
    { additionalProperties: false },
  );
  return {
    id: 'acr',
    defaultEvents: ['push', 'chart_push'],
    secretFields: ['secret'],
    options,
    prepare: (secrets, given): AcrKey => ({ header: (given as { header?: string } | undefined)?.header ?? 'Authorization', secret: secrets.secret }),
    describe: () => ({}),
    verify: (request, key: AcrKey) => kit.headerToken(request, key.header, key.secret),
    parse(request) {
      const payload = kit.read(kit.json(request.body));
      const action = payload.string('action');
      if (!ACTIONS.has(action)) return kit.ignore(`ACR action ${/^\w{1,32}$/.test(action) ? action : '(unnamed)'} is not a push or delete`);
      const target = payload.object('target');
      const repository = target.string('repository');
      const host = payload.optionalObject('request')?.optionalString('host');
      const name = host ? `${host}/${repository}` : repository;
      const tag = target.optionalString('tag');
      const given = target.optionalString('digest');
      const digest = given !== undefined && kit.oci.isDigest(given) ? given : undefined;
      // ACR's ids are UUIDs; an odd or long one is not used, so a body cannot make dedupe keys or log lines long.
      const id = payload.optionalString('id');
      const deliveryId = id === undefined ? undefined : kit.printable(id);
      return { events: [kit.imageEvent(action, { name, tag, digest }, action.endsWith('delete'))], ...(deliveryId && { deliveryId }) };
    },
    sign: (_body, { secret }, { options }) => ({ [(options as { header?: string } | undefined)?.header ?? 'Authorization']: secret! }),
  };
};

export default acr;
