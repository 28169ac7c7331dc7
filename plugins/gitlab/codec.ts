/**
 * GitLab (gitlab.com and self-managed): project, group and system hooks.
 * - verify: `secret` is the secret token, sent verbatim in `X-Gitlab-Token`; `signingSecret` is the signing token
 *   (`whsec_…`, Standard Webhooks). With both, a request that carries `webhook-signature` is decided by it (a bad
 *   signature is refused even with the right token); one without is checked against the token — so hooks can move
 *   from token to signing one at a time. To insist on signatures, configure only `signingSecret`.
 * - describe: `X-Gitlab-Event`; delivery id `Idempotency-Key` (stable across GitLab's retries), else `webhook-id`
 *   (the same value), else `X-Gitlab-Webhook-UUID`. Not `X-Gitlab-Event-UUID`: that one is shared by every hook a
 *   chain of events triggers. A verified signature's `webhook-id` wins over all of them.
 * - parse: `push` and `tag_push` (from project, group and system hooks); other system hook events are ignored.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';
import type { ProviderSecrets } from '../../src/provider-kit/index.ts';

const PROJECT_FIELDS = ['path_with_namespace', 'web_url', 'git_http_url', 'git_ssh_url', 'http_url', 'ssh_url'];
const REPOSITORY_FIELDS = ['homepage', 'git_http_url', 'git_ssh_url', 'url'];
/** GitLab lists at most 20 commits; `total_commits_count` says how many there were. */
const COMMIT_LIST_LIMIT = 20;

interface Keys {
  token?: string;
  signingKey?: Uint8Array;
}

const gitlab: ProviderFactory = (kit) => ({
  id: 'gitlab',
  defaultEvents: ['Push Hook', 'Tag Push Hook', 'System Hook'],
  secretFields: ['secret', 'signingSecret'],
  prepare: ({ secret, signingSecret }: ProviderSecrets): Keys => ({ token: secret, signingKey: signingSecret ? kit.standardWebhooks.key(signingSecret, 'signingSecret') : undefined }),
  describe: (headers) => ({
    event: headers.get('x-gitlab-event') ?? '',
    deliveryId: headers.get('idempotency-key') || headers.get('webhook-id') || headers.get('x-gitlab-webhook-uuid') || undefined,
  }),
  verify(request, { token, signingKey }: Keys, now) {
    if (signingKey && request.headers.has('webhook-signature')) return kit.standardWebhooks.verify(request, signingKey, now);
    if (!token) return { ok: false, reason: 'missing webhook-signature header' };
    if (signingKey && !request.headers.get('x-gitlab-token')) return { ok: false, reason: 'missing webhook-signature or X-Gitlab-Token header' };
    return kit.headerToken(request, 'X-Gitlab-Token', token);
  },
  parse(request, info) {
    const payload = kit.read(kit.json(request.body));
    // System hooks name the event in `event_name`; project and group hooks in `object_kind` (and `event_name`).
    const system = info.event === 'System Hook';
    const kind = system ? (payload.optionalString('event_name') ?? payload.optionalString('object_kind')) : (payload.optionalString('object_kind') ?? payload.optionalString('event_name'));
    if (system && kind === undefined) throw new kit.PayloadError('System Hook has no event_name');
    if (system && kind !== 'push' && kind !== 'tag_push') return kit.ignore(`System Hook event "${kind!.slice(0, 40)}" is not a push`);
    const repositories = kit.repositoryNames('project');
    repositories.add(...(payload.optionalObject('project')?.strings(...PROJECT_FIELDS) ?? []), ...(payload.optionalObject('repository')?.strings(...REPOSITORY_FIELDS) ?? []));
    if (repositories.list().length === 0) throw new kit.PayloadError('payload has no project or repository');
    const defaultBranch = payload.optionalObject('project')?.optionalString('default_branch') || undefined;
    const event = { event: info.event ?? '', repositories: repositories.list(), ...(defaultBranch ? { defaultBranch } : {}) };
    if (kind !== 'push' && kind !== 'tag_push') return { events: [event] }; // another hook `events` let through: the project, no ref
    const ref = { ...event, ...kit.ref(payload.string('ref')) };
    if (kit.isZeroId(payload.optionalString('after'))) return { events: [{ ...ref, deleted: true }] };
    const commits = payload.list('commits');
    const total = payload.optionalNumber('total_commits_count');
    // An empty list says nothing (tag pushes, some new branches); a capped list is missing commits.
    const complete = typeof total === 'number' ? total <= commits.length : commits.length < COMMIT_LIST_LIMIT;
    // checkout_sha is the commit; for an annotated tag `after` is the tag object.
    const commit = payload.optionalString('checkout_sha') ?? payload.optionalString('after');
    return { events: [{ ...ref, deleted: false, commit, changedPaths: kit.changedPaths(commits, { label: 'commits', complete }) }] };
  },
  sign(body, { secret, signingSecret }, { now, deliveryId }) {
    return {
      ...(secret ? { 'X-Gitlab-Token': secret } : {}),
      ...(signingSecret ? kit.standardWebhooks.sign(body, kit.standardWebhooks.key(signingSecret), deliveryId, now) : {}),
    };
  },
});
export default gitlab;
