/**
 * `standard-webhooks`: any sender that signs the way standardwebhooks.com specifies (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64>` with a `whsec_…` secret, ±5 minutes; kit.standardWebhooks).
 * `webhook-id` is the delivery id, and the signature covers it, so a replay is a duplicate whatever else it says.
 *
 * The payload is the sender's own JSON, so the provider's `options` say where to read it, as dotted paths
 * (`data.repository.clone_url`; a numeric segment indexes a list): `repository` (required; a path or a list of
 * paths, each to a string or a list of strings), `ref` (a full ref) or `branch`/`tag`, `commit`, `paths` (a list
 * of changed paths), and the event name: the string at `event` if set and present, else `eventName` (`push`).
 * A payload with nothing at the repository paths is not about code: 200 (ignored), so other event types the
 * sender posts to the same endpoint never count as failures.
 */
import type { ProviderCodec } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

/** `providers[].options`: dotted paths into the payload, and a fixed event name. */
interface Options { repository: string | string[]; ref?: string; branch?: string; tag?: string; commit?: string; paths?: string; event?: string; eventName?: string }
interface Key { signing?: Uint8Array; options: Options }

/** The value at a dotted path, own properties only (`constructor` is not a field); null reads as missing. */
function at(root: unknown, path: string): unknown {
  let current = root;
  for (const segment of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (typeof current === 'object' && current !== null && !Array.isArray(current) && Object.hasOwn(current, segment)) current = (current as Record<string, unknown>)[segment];
    else return undefined;
  }
  return current ?? undefined;
}

const standardWebhooks: ProviderFactory = (kit) => {
  const path = kit.Type.String({ pattern: '^[^.\\s]+(\\.[^.\\s]+)*$', maxLength: 200, description: 'a dotted JSON path, e.g. data.repository.clone_url' });
  const text = (payload: unknown, field: string | undefined): string | undefined => {
    const value = field === undefined ? undefined : at(payload, field);
    if (value !== undefined && typeof value !== 'string') throw new kit.PayloadError(`${field} is not a string`);
    return value;
  };
  const strings = (value: unknown, field: string): string[] => {
    const list = Array.isArray(value) ? value : [value];
    if (list.some((item) => typeof item !== 'string')) throw new kit.PayloadError(`${field} is not a string or a list of strings`);
    return list as string[];
  };
  return {
    id: 'standard-webhooks',
    defaultEvents: ['push'],
    secretFields: ['secret'],
    options: kit.Type.Object(
      {
        repository: kit.Type.Union([path, kit.Type.Array(path, { minItems: 1, maxItems: 8 })]),
        ...Object.fromEntries(['ref', 'branch', 'tag', 'commit', 'paths', 'event'].map((name) => [name, kit.Type.Optional(path)])),
        eventName: kit.Type.Optional(kit.Type.String({ minLength: 1, maxLength: 100, default: 'push' })),
      },
      { additionalProperties: false },
    ),
    prepare: (secrets, options) => ({ signing: secrets.secret === undefined ? undefined : kit.standardWebhooks.key(secrets.secret), options: options as Options }),
    describe: (headers) => ({ deliveryId: headers.get('webhook-id') || undefined }),
    verify: (request, key, now) => (key.signing ? kit.standardWebhooks.verify(request, key.signing, now) : { ok: false, reason: 'no secret configured for this provider' }),
    parse(request, _info, { options }) {
      const payload = kit.json(request.body);
      const fields = typeof options.repository === 'string' ? [options.repository] : options.repository;
      const names = kit.repositoryNames(fields.join(', '));
      for (const field of fields) {
        const value = at(payload, field);
        if (value !== undefined) names.addAll(strings(value, field)); // never a spread: a payload list may hold a million
      }
      const repositories = names.list();
      if (repositories.length === 0) return kit.ignore(`payload names no repository at ${fields.join(', ')}`);
      const full = text(payload, options.ref);
      if (full !== undefined && !full.startsWith('refs/')) throw new kit.PayloadError(`${options.ref} is not a full ref (refs/heads/… or refs/tags/…)`);
      const branch = text(payload, options.branch);
      const tag = text(payload, options.tag);
      const ref = full !== undefined ? kit.ref(full) : branch !== undefined ? kit.refOf('branch', branch) : tag !== undefined ? kit.refOf('tag', tag) : {};
      const commit = text(payload, options.commit);
      const event = { event: text(payload, options.event) ?? options.eventName ?? 'push', repositories, ...ref };
      if (kit.isZeroId(commit)) return { events: [{ ...event, deleted: true }] };
      return { events: [{ ...event, commit, changedPaths: changed(payload, options.paths) }] };
    },
    sign: (body, { secret }, { now, deliveryId }) => kit.standardWebhooks.sign(body, kit.standardWebhooks.key(secret!), deliveryId, now),
  } satisfies ProviderCodec<Key>;

  /** The changed paths at `field`: a list of strings; beyond the kit's cap, unknown. */
  function changed(payload: unknown, field: string | undefined): string[] | undefined {
    const list = field === undefined ? undefined : at(payload, field);
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) throw new kit.PayloadError(`${field} is not a list`);
    if (list.length > kit.limits.changedPaths) return undefined;
    return kit.changedPaths([{ modified: strings(list, field!) }], { label: field!, complete: true });
  }
};
export default standardWebhooks;
