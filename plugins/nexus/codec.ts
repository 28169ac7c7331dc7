/**
 * Sonatype Nexus Repository 3 repository webhooks (Capabilities → "Webhook: Repository"), for docker repositories.
 *
 * - verify: `X-Nexus-Webhook-Signature` is the lowercase hex HMAC-SHA1 of the body with the capability's "Secret
 *   Key" (sent only when one is set). Nexus serialises the payload compactly ("hashed without whitespace") and sends
 *   exactly the bytes it signed, so the raw body is verified as received, like Flux does; nothing is re-serialised.
 * - describe: `X-Nexus-Webhook-ID` is the event (`rm:repository:asset`, `rm:repository:component`),
 *   `X-Nexus-Webhook-Delivery` the delivery id (a UUID per request).
 * - parse: a created or updated docker manifest asset (`v2/<image>/manifests/<tag or digest>`) or docker component
 *   (`name` = image, `version` = tag) is one event. Other formats, blobs, deletions and purges are ignored (200).
 *   Nexus does not say under which host clients pull: `options.registry` (e.g. `nexus.example.com:8082`) prefixes
 *   image names with it; without it they carry no registry host.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const signature = { header: 'X-Nexus-Webhook-Signature', algorithms: ['sha1'], prefixed: false } as const;
/** The payload field in which each event names its item (a Map: an event header `constructor` names none). */
const ITEMS = new Map<string, 'asset' | 'component'>([
  ['rm:repository:asset', 'asset'],
  ['rm:repository:component', 'component'],
]);
/** An asset path of a docker manifest; Nexus's newer stores prefix paths with `/`. */
const MANIFEST = /^\/?v2\/(.+)\/manifests\/([^/]+)$/;

interface Key {
  secret?: string;
  registry?: string;
}

const nexus: ProviderFactory = (kit) => ({
  id: 'nexus',
  defaultEvents: ['rm:repository:asset', 'rm:repository:component'],
  secretFields: ['secret'],
  options: kit.Type.Object(
    { registry: kit.Type.Optional(kit.Type.String({ pattern: '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$', description: 'the host (and port) clients pull these images from' })) },
    { additionalProperties: false, default: {} },
  ),
  prepare: ({ secret }, options): Key => ({ secret, registry: (options as { registry?: string }).registry }),
  describe: (headers) => ({
    event: headers.get('x-nexus-webhook-id') ?? '',
    deliveryId: headers.get('x-nexus-webhook-delivery') || undefined,
  }),
  verify: (request, key: Key) => kit.hmacHeader.verify(request, signature, key.secret),
  parse(request, info, key: Key) {
    const event = info.event ?? '';
    const kind = ITEMS.get(event);
    if (kind === undefined) return kit.ignore('not a repository asset or component event');
    const payload = kit.read(kit.json(request.body));
    const action = payload.string('action');
    // DELETED and PURGED publish nothing; an image that is gone cannot be reconciled to.
    if (action !== 'CREATED' && action !== 'UPDATED') return kit.ignore(`${kind} was not created or updated`);
    const item = payload.object(kind);
    if (item.optionalString('format') !== 'docker') return kit.ignore(`${kind} is not in a docker repository`);
    let name = item.string('name');
    let reference = item.optionalString('version');
    if (kind === 'asset') {
      const manifest = MANIFEST.exec(name);
      if (!manifest) return kit.ignore('asset is not an image manifest');
      [name, reference] = [manifest[1]!, manifest[2]!];
    }
    // A manifest is addressed by a tag or by a digest; anything else names the image alone.
    const digest = reference !== undefined && kit.oci.isDigest(reference) ? reference : undefined;
    const tag = reference !== undefined && kit.oci.isTag(reference) ? reference : undefined;
    return { events: [kit.imageEvent(event, { name: key.registry ? `${key.registry}/${name}` : name, tag, digest })] };
  },
  sign: (body, { secret }) => ({ 'X-Nexus-Webhook-Signature': kit.hmacHeader.sign(signature, secret!, body) }),
});

export default nexus;
