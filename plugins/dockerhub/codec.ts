/**
 * Docker Hub repository webhooks (repository → Webhooks).
 *
 * - verify: Docker Hub signs nothing and sends no credential, so this type is unsigned: a provider of it needs
 *   `allowUnsigned: true`, and the unguessable route is the only secret (as with Flux's `dockerhub` Receiver).
 * - describe: no header says anything; every delivery is a push.
 * - parse: `repository.repo_name` (`namespace/name`), `push_data.tag` and the push time `push_data.pushed_at`. Deliveries of the old format have no tag
 *   (only `push_data.images`): the event then names the image alone. Docker Hub sends no digest. `callback_url`
 *   (a legacy validation callback) is not called.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const dockerhub: ProviderFactory = (kit) => ({
  id: 'dockerhub',
  defaultEvents: ['push'],
  secretFields: [],
  describe: () => ({ event: 'push' }),
  verify: () => ({ ok: false, reason: 'Docker Hub sends no credential to verify; this type needs allowUnsigned: true' }),
  parse(request) {
    const payload = kit.read(kit.json(request.body));
    const name = payload.object('repository').string('repo_name');
    const pushData = payload.optionalObject('push_data');
    const tag = pushData?.optionalString('tag');
    // `push_data.pushed_at`: the push's own time (epoch seconds), read as is (another type is no push time).
    const seconds = pushData?.value.pushed_at;
    const pushedAt = typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? { pushedAt: seconds * 1000 } : {};
    return { events: [{ ...kit.imageEvent('push', { name, tag }), ...pushedAt }] };
  },
  sign: () => ({}),
});

export default dockerhub;
