/**
 * GitHub (github.com and GitHub Enterprise Server).
 * - verify: `X-Hub-Signature-256: sha256=<hex>` through GitHub's own verify (`kit.githubSha256`); only when that
 *   header is absent, the legacy `X-Hub-Signature: sha1=<hex>` on the kit's HMAC (a present but wrong SHA-256
 *   signature never falls back to SHA-1).
 * - describe: `X-GitHub-Event`, `X-GitHub-Delivery` (kept on "Redeliver"), `ping` on hook creation.
 * - parse: `push` (JSON or form `payload=`, whose signature covers the form bytes as sent); `create`/`delete` and
 *   `release` refs; `package`/`registry_package` container images published to GHCR.
 */
import type { Event, Ignored, Parsed } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';
import type { PayloadReader } from '../../src/provider-kit/index.ts';

const SHA256 = { header: 'X-Hub-Signature-256', algorithms: ['sha256'], prefixed: true } as const;
const SHA1 = { header: 'X-Hub-Signature', algorithms: ['sha1'], prefixed: true } as const;
const REPOSITORY_FIELDS = ['full_name', 'html_url', 'clone_url', 'ssh_url', 'git_url', 'url'];
/** GitHub lists at most 20 commits with file lists in places: a list of 20 may be cut, so its paths are unknown. */
const COMMIT_LIST_LIMIT = 20;

const github: ProviderFactory = (kit) => {
  // The body's text, decoded once: the signature check and the JSON parse both read it.
  const textOf = kit.utf8Once();

  function payloadOf(body: Uint8Array, contentType: string | null): PayloadReader {
    // A JSON document never starts with `p`, so a body without Content-Type is sniffed by its first byte.
    const form = contentType ? contentType.toLowerCase().startsWith('application/x-www-form-urlencoded') : body[0] === 0x70;
    return kit.read(kit.json(form ? kit.formField(body, 'payload') : (textOf(body) ?? body)));
  }

  function push(payload: PayloadReader, event: Event): Event {
    const parts = { ...event, ...kit.ref(payload.string('ref')) };
    if (payload.optionalBoolean('deleted') === true || kit.isZeroId(payload.optionalString('after'))) return { ...parts, deleted: true };
    const commits = payload.list('commits');
    const head = payload.optionalObject('head_commit');
    // head_commit.id is the commit; `after` is the tag object when an annotated tag is pushed.
    const commit = head?.optionalString('id') ?? payload.optionalString('after');
    // No commit list (tag push, new branch at an existing commit): the head commit's files are the best we have.
    const changedPaths = commits.length > 0 ? kit.changedPaths(commits, { label: 'commits', complete: commits.length < COMMIT_LIST_LIMIT }) : head ? kit.changedPaths([head.value], { label: 'head_commit', complete: true }) : undefined;
    // `repository.pushed_at` is the push's own time in a push (epoch seconds); head_commit.timestamp is the commit's.
    const pushedAt = pushTime(payload.optionalObject('repository'));
    return { ...parts, deleted: false, commit, changedPaths, ...(pushedAt !== undefined ? { pushedAt } : {}) };
  }

  function pushTime(repository: PayloadReader | undefined): number | undefined {
    // Read as is: a wrong type means no push time, never a refused delivery.
    const seconds = repository?.value.pushed_at;
    return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  }

  /** A container image published to GHCR (`package`, or the older `registry_package`). */
  function image(payload: PayloadReader, event: Event): Parsed | Ignored {
    const pack = payload.optionalObject('package') ?? payload.object('registry_package');
    const version = pack.object('package_version');
    const container = version.optionalObject('container_metadata');
    if (!container) return kit.ignore('the package is not a container image');
    const action = payload.optionalString('action');
    if (action !== 'published' && action !== 'updated') {
      const shown = kit.printable(action ?? '');
      return kit.ignore(shown ? `package action "${shown}" is not a publish` : 'package action is not a publish');
    }
    const url = version.optionalString('package_url') ?? `ghcr.io/${pack.string('namespace')}`;
    const tag = container.optionalObject('tag')?.optionalString('name') || undefined;
    const digest = container.optionalObject('tag')?.optionalString('digest') || container.optionalObject('manifest')?.optionalString('digest') || undefined;
    const name = kit.oci.withoutReference(url);
    return { events: [{ ...event, repositories: [], image: { name, tag, digest }, tag, commit: digest }] };
  }

  return {
    id: 'github',
    defaultEvents: ['push', 'ping'],
    secretFields: ['secret'],
    describe(headers) {
      const event = headers.get('x-github-event') ?? '';
      return { event, deliveryId: headers.get('x-github-delivery') || undefined, ping: event === 'ping' };
    },
    verify: (request, { secret }) =>
      request.headers.has(SHA256.header) || !request.headers.has(SHA1.header) ? kit.githubSha256(request, secret, textOf(request.body)) : kit.hmacHeader.verify(request, SHA1, secret),
    parse(request, info) {
      const name = info.event ?? '';
      const payload = payloadOf(request.body, request.headers.get('content-type'));
      if (name === 'package' || name === 'registry_package') return image(payload, { event: name, repositories: [] });
      const repository = payload.optionalObject('repository');
      const repositories = kit.repositoryNames('repository');
      repositories.add(...(repository?.strings(...REPOSITORY_FIELDS) ?? []));
      // A push is always about a repository; an organization hook's other events may not be.
      if (name === 'push' && repositories.list().length === 0) throw new kit.PayloadError(repository ? 'repository has no full_name or URL' : 'payload has no repository');
      const defaultBranch = repository?.optionalString('default_branch') || undefined;
      const event: Event = { event: name, repositories: repositories.list(), ...(defaultBranch ? { defaultBranch } : {}) };
      if (name === 'push') return { events: [push(payload, event)] };
      if (name === 'create' || name === 'delete') {
        // `ref` is the short name here; `ref_type` says branch or tag.
        const type = payload.optionalString('ref_type');
        const ref = type === 'branch' || type === 'tag' ? kit.refOf(type, payload.string('ref')) : {};
        return { events: [{ ...event, ...ref, ...(name === 'delete' ? { deleted: true } : {}) }] };
      }
      if (name === 'release') {
        const tag = payload.optionalObject('release')?.optionalString('tag_name');
        return { events: [{ ...event, ...(tag !== undefined ? kit.refOf('tag', tag) : {}) }] };
      }
      return { events: [event] };
    },
    sign: (body, { secret }) => ({ [SHA256.header]: kit.hmacHeader.sign(SHA256, secret!, body), [SHA1.header]: kit.hmacHeader.sign(SHA1, secret!, body) }),
  };
};
export default github;
