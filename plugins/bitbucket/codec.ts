/**
 * Bitbucket Cloud (bitbucket.org) webhooks. Bitbucket Data Center is `bitbucket-server`: another payload.
 *
 * - verify: `X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with the webhook's secret.
 * - describe: `X-Event-Key` (`repo:push`); delivery id `X-Request-UUID`, which Bitbucket keeps when it retries
 *   (it counts the attempts in `X-Attempt-Number`). Bitbucket Cloud sends no ping.
 * - parse: one event per `push.changes[]` entry (`new` is the ref after the push, `null` when it was deleted).
 *   The payload names the repository by `full_name` and web URL only, and lists no changed files.
 */
import type { Event, ProviderCodec } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const signature = { header: 'X-Hub-Signature', algorithms: ['sha256'], prefixed: true } as const;
const PUSH = 'repo:push';

const bitbucket: ProviderFactory = (kit): ProviderCodec => ({
  id: 'bitbucket',
  defaultEvents: [PUSH],
  secretFields: ['secret'],
  describe: (headers) => ({ event: headers.get('x-event-key') ?? '', deliveryId: headers.get('x-request-uuid') || undefined }),
  verify: (request, secrets) => kit.hmacHeader.verify(request, signature, secrets.secret),
  parse(request, info) {
    // Flux's `bitbucket` Receiver also serves Data Center; here that payload needs its own type.
    if (info.event === 'repo:refs_changed') throw new kit.PayloadError('repo:refs_changed is a Bitbucket Data Center event: use the bitbucket-server type');
    if (info.event !== PUSH) return kit.ignore(`only ${PUSH} is about code`);
    const payload = kit.read(kit.json(request.body));
    const repository = payload.object('repository');
    const names = kit.repositoryNames('repository');
    names.add(repository.string('full_name'), ...(repository.optionalObject('links')?.optionalObject('html')?.strings('href') ?? []));
    const repositories = names.list();
    const changes = payload.object('push').objects('changes', kit.limits.events);
    if (changes.length === 0) return kit.ignore('push lists no changes');
    const events = changes.map((change): Event => {
      const after = change.optionalObject('new');
      const named = after ?? change.optionalObject('old');
      if (named === undefined) throw new kit.PayloadError(`${change.path} has neither new nor old`);
      const kind = named.string('type');
      if (kind !== 'branch' && kind !== 'tag') throw new kit.PayloadError(`${named.path}.type is neither branch nor tag`);
      const ref = kit.refOf(kind, named.string('name'));
      // For an annotated tag too, `target` is the commit (Bitbucket peels the tag object).
      if (after === undefined) return { event: PUSH, repositories, ...ref, deleted: true };
      return { event: PUSH, repositories, ...ref, commit: after.object('target').string('hash') };
    });
    return { events };
  },
  sign: (body, { secret }) => ({ 'X-Hub-Signature': kit.hmacHeader.sign(signature, secret!, body) }),
});

export default bitbucket;
