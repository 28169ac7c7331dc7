/**
 * Bitbucket Data Center (formerly Bitbucket Server) webhooks. Bitbucket Cloud is `bitbucket`: another payload.
 *
 * - verify: `X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with the webhook's secret.
 * - describe: `X-Event-Key` (`repo:refs_changed` for a push, `diagnostics:ping` for "Test connection"),
 *   delivery id `X-Request-Id`.
 * - parse: one event per `changes[]` entry (`ref.id` full ref, `type` ADD/UPDATE/DELETE, `toHash`). The
 *   repository is named by its clone URLs (http, ssh), its web URL and `PROJECT/slug`; no changed files are listed.
 */
import type { Event, ProviderCodec } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';
import type { PayloadReader } from '../../src/provider-kit/index.ts';

const signature = { header: 'X-Hub-Signature', algorithms: ['sha256'], prefixed: true } as const;
const PUSH = 'repo:refs_changed';

const bitbucketServer: ProviderFactory = (kit): ProviderCodec => {
  function repositoryNames(repository: PayloadReader): string[] {
    const names = kit.repositoryNames('repository');
    const links = repository.optionalObject('links');
    for (const field of ['clone', 'self']) {
      for (const link of links?.objects(field, kit.limits.repositories) ?? []) names.add(...link.strings('href'));
    }
    names.add(`${repository.object('project').string('key')}/${repository.string('slug')}`);
    return names.list();
  }

  return {
    id: 'bitbucket-server',
    defaultEvents: [PUSH],
    secretFields: ['secret'],
    describe(headers) {
      const event = headers.get('x-event-key') ?? '';
      return { event, deliveryId: headers.get('x-request-id') || undefined, ping: event === 'diagnostics:ping' };
    },
    verify: (request, secrets) => kit.hmacHeader.verify(request, signature, secrets.secret),
    parse(request, info) {
      if (info.event !== PUSH) return kit.ignore(`only ${PUSH} is about code`);
      const payload = kit.read(kit.json(request.body));
      const repositories = repositoryNames(payload.object('repository'));
      const changes = payload.objects('changes', kit.limits.events);
      if (changes.length === 0) return kit.ignore('push lists no changes');
      // `toHash` of an annotated tag is the tag object; `toCommit` (newer servers) is its commit, for a one-ref push.
      const peeled = changes.length === 1 ? payload.optionalObject('toCommit')?.optionalString('id') : undefined;
      const events = changes.map((change): Event => {
        const ref = kit.ref(change.object('ref').string('id'));
        const to = change.string('toHash');
        if (change.string('type') === 'DELETE' || kit.isZeroId(to)) return { event: PUSH, repositories, ...ref, deleted: true };
        return { event: PUSH, repositories, ...ref, commit: peeled ?? to };
      });
      return { events };
    },
    sign: (body, { secret }) => ({ 'X-Hub-Signature': kit.hmacHeader.sign(signature, secret!, body) }),
  };
};

export default bitbucketServer;
