/**
 * `gogs`: Gogs webhooks (Argo CD's "Gogs" type; Gitea and Forgejo have their own, `gitea`).
 *
 * - verify: `X-Gogs-Signature`, bare hex HMAC-SHA256 of the JSON payload (inside `payload=` for a form-encoded
 *   hook, not the form bytes); sent empty when the hook has no secret.
 * - describe: `X-Gogs-Event`, `X-Gogs-Delivery`.
 * - parse: a branch push sends `push` (and, for a new branch, also `create`, which is ignored: the push carries
 *   it); a tag push sends only `create` (`ref_type: tag`, `sha`); deleting a branch or tag sends only `delete`.
 *   Gogs lists at most FEED_MAX_COMMIT_NUM commits (default 5) and does not say how many there were.
 */
import type { ProviderCodec } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const SIGNATURE = { header: 'X-Gogs-Signature', algorithms: ['sha256'], prefixed: false } as const;
const REPOSITORY_FIELDS = ['full_name', 'html_url', 'clone_url', 'ssh_url'];
/** Gogs' default FEED_MAX_COMMIT_NUM: a list this long may have been cut. */
const COMMIT_CAP = 5;
const gogs: ProviderFactory = (kit) =>
  ({
    id: 'gogs',
    defaultEvents: ['push', 'create'],
    secretFields: ['secret'],
    describe: (headers) => ({ event: headers.get('x-gogs-event') ?? '', deliveryId: headers.get('x-gogs-delivery') || undefined }),
    verify(request, secrets) {
      if (request.headers.get(SIGNATURE.header) === '') return { ok: false, reason: 'X-Gogs-Signature is empty: the webhook has no secret set on the Gogs side' };
      return kit.hmacHeader.verify(request, SIGNATURE, secrets.secret, kit.signedJson);
    },
    parse(request, info) {
      const payload = kit.read(kit.json(kit.signedJson(request)));
      const event = { event: info.event ?? 'push', repositories: kit.repositorySpellings(payload.object('repository'), ...REPOSITORY_FIELDS) };
      if (info.event === 'create' || info.event === 'delete') {
        const change = kit.createOrDelete(payload, event);
        // A new branch's push delivery carries the change; a tag arrives only as this `create`.
        return change.branch !== undefined && !change.deleted ? kit.ignore('branch created: its push delivery carries the change') : { events: [change] };
      }
      if (info.event !== 'push') return kit.ignore(`${info.event ?? 'an unnamed'} event is not about a ref`);
      const after = payload.string('after');
      if (kit.isZeroId(after)) return { events: [{ ...event, ...kit.ref(payload.string('ref')), deleted: true }] };
      const commits = payload.list('commits'); // any length: changedPaths reads at most limits.commits
      // A new branch lists history, not a change: its changed paths are unknown.
      const complete = !kit.isZeroId(payload.optionalString('before')) && commits.length < COMMIT_CAP;
      return { events: [{ ...event, ...kit.ref(payload.string('ref')), commit: after, changedPaths: kit.changedPaths(commits, { label: 'commits', complete }) }] };
    },
    sign: (body, { secret }) => ({ 'X-Gogs-Signature': kit.hmacHeader.sign(SIGNATURE, secret!, body) }),
  }) satisfies ProviderCodec;
export default gogs;
