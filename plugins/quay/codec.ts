/**
 * Quay (quay.io and Red Hat Quay) "Repository Push" notifications with the Webhook POST method.
 *
 * - verify: Quay adds no signature or token (over HTTPS it can present a client certificate, which a TLS terminator
 *   in front of fluxgate may check), so this type is unsigned: a provider of it needs `allowUnsigned: true`.
 * - describe: no header names the event; a body with `updated_tags` is a `repo_push` (Quay's event name). Other
 *   notifications sent to the same URL (builds, vulnerabilities, mirroring) are ignored.
 * - parse: `docker_url` (the image with its registry host, e.g. `quay.io/org/app`; `repository` when absent) and one
 *   event per entry of `updated_tags`, a list of tag names as Quay sends it today (a JSON object, as very old docs
 *   showed, is refused with a 400 naming the field). Quay sends no digest.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const quay: ProviderFactory = (kit) => ({
  id: 'quay',
  defaultEvents: ['repo_push'],
  secretFields: [],
  describe: () => ({}),
  verify: () => ({ ok: false, reason: 'Quay sends no credential to verify; this type needs allowUnsigned: true' }),
  parse(request) {
    const payload = kit.read(kit.json(request.body));
    if (!payload.has('updated_tags')) return kit.ignore('not a repository push notification (no updated_tags)');
    const name = payload.optionalString('docker_url') || payload.string('repository');
    const tags = payload.list('updated_tags', kit.limits.events).map((tag, index) => {
      if (typeof tag !== 'string' || tag === '') throw new kit.PayloadError(`updated_tags[${index}] is not a tag name`);
      return tag;
    });
    // A push that updated no tag (by digest) still says the image changed.
    if (tags.length === 0) return { events: [kit.imageEvent('repo_push', { name })] };
    return { events: tags.map((tag) => kit.imageEvent('repo_push', { name, tag })) };
  },
  sign: () => ({}),
});

export default quay;
