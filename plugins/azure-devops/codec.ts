/**
 * Azure DevOps (Services and Server) service hooks, "Code pushed" (`git.push`) sent to a Web Hooks consumer.
 *
 * - verify: Azure DevOps signs nothing; the subscription's basic authentication is the credential:
 *   `Authorization: Basic …` whose password is the provider's `secret` and, when `options.username` is set,
 *   whose user name is that. Both are compared in constant time and a miss does not say which one was wrong.
 * - describe: the headers name neither the event nor the delivery: `eventType` and `id` are in the body.
 * - delivery id: `parse` returns the body's `id` (the event's GUID, the same on every retry). Basic authentication
 *   proves the sender, not the bytes: the id is as trusted as the refs and repository fluxgate acts on, which come
 *   from the same body, and choosing it gives a holder of the credentials nothing they could not do by sending
 *   pushes. Kept only when it is short and plain (kit.printable).
 * - parse: one event per `resource.refUpdates[]` entry (`name` full ref, `newObjectId` all zeros = deleted),
 *   named `git.push`; the repository by `remoteUrl`. Azure DevOps lists no changed files.
 */
import type { ProviderCodec } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const PUSH = 'git.push';

interface Options { username?: string }
interface Key { password?: string; username?: string }

const azureDevops: ProviderFactory = (kit): ProviderCodec<Key> => ({
  id: 'azure-devops',
  defaultEvents: [PUSH],
  secretFields: ['secret'],
  options: kit.Type.Object(
    { username: kit.Type.Optional(kit.Type.String({ minLength: 1, description: 'the basic authentication user name set on the service hook' })) },
    { additionalProperties: false, default: {} },
  ),
  prepare: ({ secret }, options) => ({ password: secret, username: (options as Options).username }),
  describe: () => ({}),
  verify(request, key) {
    if (!key.password) return { ok: false, reason: 'no secret configured for this provider' };
    const header = request.headers.get('authorization');
    if (!header) return { ok: false, reason: 'missing Authorization header' };
    const credentials = kit.basicAuth(header);
    if (!credentials) return { ok: false, reason: 'Authorization header is not HTTP Basic credentials' };
    // Both compared, whatever the first says: a miss does not tell which one was wrong.
    const password = kit.safeEqual(credentials.password, key.password);
    const username = key.username === undefined || kit.safeEqual(credentials.username, key.username);
    return password && username ? { ok: true } : { ok: false, reason: 'Basic credentials do not match' };
  },
  parse(request) {
    const payload = kit.read(kit.json(request.body));
    if (payload.string('eventType') !== PUSH) return kit.ignore(`only ${PUSH} is about code`);
    const resource = payload.object('resource');
    const repository = resource.object('repository');
    const names = kit.repositoryNames('resource.repository');
    names.add(repository.string('remoteUrl'), ...repository.strings('sshUrl', 'webUrl'));
    const repositories = names.list();
    const updates = resource.objects('refUpdates', kit.limits.events);
    if (updates.length === 0) return kit.ignore('push lists no refUpdates');
    const events = updates.map((update) => {
      const ref = kit.ref(update.string('name'));
      const commit = update.string('newObjectId');
      return kit.isZeroId(commit) ? { event: PUSH, repositories, ...ref, deleted: true } : { event: PUSH, repositories, ...ref, commit };
    });
    // Only the body names the delivery (a GUID); an odd or long id is not kept, so it cannot bloat dedupe or logs.
    const deliveryId = kit.printable(payload.optionalString('id') ?? '');
    return { events, ...(deliveryId && { deliveryId }) };
  },
  sign: (_body, { secret }, { options }) => ({ Authorization: kit.basicAuthHeader((options as Options).username ?? 'fluxgate', secret!) }),
});

export default azureDevops;
