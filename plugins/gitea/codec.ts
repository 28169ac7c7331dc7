/**
 * `gitea`: Gitea and Forgejo (Forgejo sends Gitea's headers and payloads, plus `X-Forgejo-*` twins).
 *
 * - verify: bare hex HMAC-SHA256 in `X-Forgejo-Signature`, else `X-Gitea-Signature`, else `X-Hub-Signature-256`
 *   (`sha256=<hex>`) — the same digest under three names; the first present one is checked. A form-encoded hook
 *   (`payload=…`) signs the JSON inside the form, not the form bytes. Without a secret on the hook these headers
 *   are sent empty.
 * - describe: `X-Forgejo-Event`/`X-Gitea-Event` (`push`, `create`, `delete`…), `X-Forgejo-Delivery`/`X-Gitea-Delivery`.
 * - parse: `push` (every ref, tags included, gets its own delivery), `create` and `delete` (short `ref` + `ref_type`).
 *   Gitea lists at most FEED_MAX_COMMIT_NUM commits (default 5) and says how many there were in `total_commits`.
 */
import type { ProviderCodec } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

const SIGNATURES = [
  { header: 'X-Forgejo-Signature', algorithms: ['sha256'], prefixed: false },
  { header: 'X-Gitea-Signature', algorithms: ['sha256'], prefixed: false },
  { header: 'X-Hub-Signature-256', algorithms: ['sha256'], prefixed: true },
] as const;
const REPOSITORY_FIELDS = ['full_name', 'html_url', 'clone_url', 'ssh_url'];
/** Gitea's default FEED_MAX_COMMIT_NUM, for versions that do not send `total_commits`. */
const DEFAULT_COMMIT_CAP = 5;
const gitea: ProviderFactory = (kit) =>
  ({
    id: 'gitea',
    defaultEvents: ['push'],
    secretFields: ['secret'],
    describe: (headers) => ({
      event: headers.get('x-forgejo-event') ?? headers.get('x-gitea-event') ?? '',
      deliveryId: headers.get('x-forgejo-delivery') || headers.get('x-gitea-delivery') || undefined,
    }),
    verify(request, secrets) {
      const signature = SIGNATURES.find((candidate) => request.headers.has(candidate.header));
      if (!signature) return { ok: false, reason: 'missing X-Gitea-Signature header (nor X-Forgejo-Signature or X-Hub-Signature-256)' };
      if (request.headers.get(signature.header) === '') return { ok: false, reason: `${signature.header} is empty: the webhook has no secret set on the Gitea side` };
      return kit.hmacHeader.verify(request, signature, secrets.secret, kit.signedJson);
    },
    parse(request, info) {
      const payload = kit.read(kit.json(kit.signedJson(request)));
      const repository = payload.object('repository');
      const defaultBranch = repository.optionalString('default_branch') || undefined;
      const event = { event: info.event ?? 'push', repositories: kit.repositorySpellings(repository, ...REPOSITORY_FIELDS), ...(defaultBranch ? { defaultBranch } : {}) };
      if (info.event === 'create' || info.event === 'delete') return { events: [kit.createOrDelete(payload, event)] };
      if (info.event !== 'push') return kit.ignore(`${info.event ?? 'an unnamed'} event is not about a ref`);
      const after = payload.string('after');
      if (kit.isZeroId(after)) return { events: [{ ...event, ...kit.ref(payload.string('ref')), deleted: true }] };
      const commits = payload.list('commits'); // any length: changedPaths reads at most limits.commits
      const total = payload.optionalNumber('total_commits');
      // A new branch lists history, not a change: its changed paths are unknown.
      const complete = !kit.isZeroId(payload.optionalString('before')) && (total === undefined ? commits.length < DEFAULT_COMMIT_CAP : commits.length >= total);
      return { events: [{ ...event, ...kit.ref(payload.string('ref')), commit: after, changedPaths: kit.changedPaths(commits, { label: 'commits', complete }) }] };
    },
    sign(body, { secret }) {
      const hex = kit.hmac('sha256', secret!, body, 'hex');
      return { 'X-Gitea-Signature': hex, 'X-Gogs-Signature': hex, 'X-Hub-Signature': `sha1=${kit.hmac('sha1', secret!, body, 'hex')}`, 'X-Hub-Signature-256': `sha256=${hex}` };
    },
  }) satisfies ProviderCodec;
export default gitea;
