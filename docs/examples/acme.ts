/**
 * Acme Git, a made-up host: a complete provider, explained in docs/writing-a-provider.md. Acme signs the body with
 * `X-Acme-Signature: sha256=<hex>` (HMAC-SHA256, the webhook's secret), names the event in `X-Acme-Event` and the
 * delivery in `X-Acme-Delivery`, and posts one JSON push per ref, listing every commit with its files.
 * Load it with `pluginsDir` pointing at this directory, then `type: acme`.
 */
import type { Event, ProviderFactory } from '../../src/provider-kit/index.ts';

const SIGNATURE = { header: 'X-Acme-Signature', algorithms: ['sha256'], prefixed: true } as const;

const acme: ProviderFactory = (kit) => ({
  id: 'acme',
  defaultEvents: ['push'],
  secretFields: ['secret'],
  describe: (headers) => ({ event: headers.get('x-acme-event') ?? '', deliveryId: headers.get('x-acme-delivery') || undefined }),
  verify: (request, { secret }) => kit.hmacHeader.verify(request, SIGNATURE, secret),
  parse(request, info) {
    if (info.event !== 'push') return kit.ignore('only push is about code');
    const payload = kit.read(kit.json(request.body));
    const repository = payload.object('repository');
    const names = kit.repositoryNames('repository');
    names.add(repository.string('full_name'), ...repository.strings('clone_url'));
    const event: Event = { event: 'push', repositories: names.list(), ...kit.ref(payload.string('ref')) };
    const after = payload.string('after');
    if (kit.isZeroId(after)) return { events: [{ ...event, deleted: true }] };
    // Acme never cuts its commit list; beyond the kit's caps the paths are unknown and path filters pass.
    const changedPaths = kit.changedPaths(payload.list('commits'), { label: 'commits', complete: true });
    return { events: [{ ...event, commit: after, changedPaths }] };
  },
  sign: (body, { secret }) => ({ [SIGNATURE.header]: kit.hmacHeader.sign(SIGNATURE, secret!, body) }),
});

export default acme;
