/**
 * GitHub (github.com and GitHub Enterprise Server) webhooks.
 *
 * - verify: `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the raw body with the hook secret); only when that
 *   header is absent, the legacy `X-Hub-Signature: sha1=<hex>`. A present but wrong SHA-256 signature never falls
 *   back to SHA-1.
 * - describe: `X-GitHub-Event`, `X-GitHub-Delivery` (a GUID GitHub keeps on "Redeliver"), `ping` on hook creation.
 * - parse: JSON bodies, and form bodies (`application/x-www-form-urlencoded`, `payload=<url-encoded JSON>`), in which
 *   case the signature covers the form bytes as sent, which `verify` checks before anything is decoded.
 */
import type { DeliveryInfo, GitEvent, PluginHost, ProviderPlugin, SampleOptions, VerifyResult, WebhookRequest } from '../src/plugins/plugin-api.ts';

type Json = Record<string, unknown>;

const ZERO_SHA = '0000000000000000000000000000000000000000';
/**
 * GitHub lists at most 20 commits (with their added/modified/removed files) in places, and documents different caps
 * for timeline events and deliveries. A push whose `commits` has 20 or more entries may therefore be missing commits,
 * so its changed paths are reported as unknown (`undefined`): path filters then pass instead of wrongly dropping
 * the event. One needless reconcile is cheap; a missed one is not.
 */
const COMMIT_LIST_LIMIT = 20;
const OK: VerifyResult = { ok: true };
/** Algorithm names we are willing to echo back in a reason (the header is attacker-controlled). */
const PRINTABLE_ALGORITHM = /^[A-Za-z0-9_-]{1,16}$/;
const REPOSITORY_URL_FIELDS = ['full_name', 'html_url', 'clone_url', 'ssh_url', 'git_url', 'url'] as const;
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const LETTER_P = 0x70;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

export default function createGithubPlugin(host: PluginHost): ProviderPlugin {
  const { PayloadError } = host;

  function optionalString(object: Json, field: string, where: string): string | undefined {
    const value = object[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new PayloadError(`${where}${field} is not a string`);
    return value;
  }

  /** Checks `<algorithm>=<hex>` from `headerName` against the HMAC of the body. */
  function checkSignature(header: string, headerName: string, algorithm: 'sha1' | 'sha256', secret: string, body: Uint8Array): VerifyResult {
    const separator = header.indexOf('=');
    if (separator <= 0) return fail(`malformed ${headerName} header (expected ${algorithm}=<hex>)`);
    const given = header.slice(0, separator);
    if (given !== algorithm && given.toLowerCase() !== algorithm) {
      return fail(PRINTABLE_ALGORITHM.test(given) ? `unsupported signature algorithm "${given}" in ${headerName}` : `unsupported signature algorithm in ${headerName}`);
    }
    const expected = host.hmac(algorithm, secret, body, 'hex');
    return host.safeEqual(header.slice(separator + 1).toLowerCase(), expected) ? OK : fail('signature does not match');
  }

  function decodePayload(request: WebhookRequest): Json {
    const contentType = request.headers.get('content-type');
    // A JSON document never starts with `p`, so a body without Content-Type is sniffed by its first byte.
    const form = contentType ? contentType.toLowerCase().startsWith(FORM_CONTENT_TYPE) : request.body[0] === LETTER_P;
    let payload: unknown;
    if (form) {
      const field = new URLSearchParams(host.text(request.body)).get('payload');
      if (field === null) throw new PayloadError('form-encoded body has no payload field');
      payload = host.json(field);
    } else {
      payload = host.json(request.body);
    }
    if (!isObject(payload)) throw new PayloadError('payload is not a JSON object');
    return payload;
  }

  function repositoriesOf(payload: Json, required: boolean): string[] {
    const repository = payload.repository;
    if (repository === undefined || repository === null) {
      if (required) throw new PayloadError('payload has no repository');
      return [];
    }
    const found = host.collectUrls(repository, 'repository', REPOSITORY_URL_FIELDS, []);
    if (required && found.length === 0) throw new PayloadError('repository has no full_name or URL');
    return found;
  }

  function changedPathsOf(payload: Json): string[] | undefined {
    const commits = payload.commits;
    if (commits !== undefined && commits !== null && !Array.isArray(commits)) throw new PayloadError('commits is not an array');
    const headCommit = payload.head_commit;
    if (headCommit !== undefined && headCommit !== null && !isObject(headCommit)) throw new PayloadError('head_commit is not an object');
    if (payload.deleted === true) return undefined;
    if (commits && commits.length > 0) {
      if (commits.length >= COMMIT_LIST_LIMIT) return undefined; // possibly truncated, see COMMIT_LIST_LIMIT
      return host.commitFiles(commits, 'commits');
    }
    // No commit list (tag push, new branch at an existing commit): the head commit's files are the best we have.
    if (headCommit) return host.commitFiles([headCommit], 'head_commit');
    return undefined;
  }

  function setRef(event: GitEvent, ref: string): void {
    event.ref = ref;
    if (ref.startsWith('refs/heads/')) event.branch = ref.slice(11);
    else if (ref.startsWith('refs/tags/')) event.tag = ref.slice(10);
  }

  function parsePush(payload: Json, event: GitEvent): void {
    const ref = optionalString(payload, 'ref', '');
    if (ref === undefined) throw new PayloadError('push payload has no ref');
    setRef(event, ref);
    const deleted = payload.deleted;
    if (deleted !== undefined && typeof deleted !== 'boolean') throw new PayloadError('deleted is not a boolean');
    const after = optionalString(payload, 'after', '');
    if (deleted === true || after === ZERO_SHA) {
      event.deleted = true;
      return;
    }
    event.deleted = false;
    event.changedPaths = changedPathsOf(payload);
    // head_commit.id is the commit itself; `after` is the tag object's id when an annotated tag is pushed.
    const headCommit = payload.head_commit;
    const headId = isObject(headCommit) ? optionalString(headCommit, 'id', 'head_commit.') : undefined;
    event.commit = headId ?? after;
  }

  function parseOther(eventName: string, payload: Json, event: GitEvent): void {
    if (eventName === 'create' || eventName === 'delete') {
      // `ref` is the short name here; `ref_type` says branch or tag.
      const ref = optionalString(payload, 'ref', '');
      const refType = optionalString(payload, 'ref_type', '');
      if (ref !== undefined && (refType === 'branch' || refType === 'tag')) {
        setRef(event, `${refType === 'branch' ? 'refs/heads/' : 'refs/tags/'}${ref}`);
      }
      if (eventName === 'delete') event.deleted = true;
      return;
    }
    if (eventName === 'release') {
      const release = payload.release;
      if (isObject(release)) {
        const tag = optionalString(release, 'tag_name', 'release.');
        if (tag !== undefined) setRef(event, `refs/tags/${tag}`);
      }
      return;
    }
    const ref = payload.ref;
    if (typeof ref === 'string' && ref.startsWith('refs/')) setRef(event, ref);
    const after = payload.after;
    if (typeof after === 'string' && after !== ZERO_SHA) event.commit = after;
  }

  return {
    id: 'github',
    defaultEvents: ['push', 'ping'],
    secretFields: ['secret'],

    verify(request, secrets) {
      const secret = secrets.secret;
      if (!secret) return fail('no secret configured for this provider');
      const headers = request.headers;
      const sha256 = headers.get('x-hub-signature-256');
      if (sha256) return checkSignature(sha256, 'X-Hub-Signature-256', 'sha256', secret, request.body);
      const sha1 = headers.get('x-hub-signature');
      if (sha1) return checkSignature(sha1, 'X-Hub-Signature', 'sha1', secret, request.body);
      return fail('missing X-Hub-Signature-256 header');
    },

    describe(request): DeliveryInfo {
      const event = request.headers.get('x-github-event') ?? '';
      const deliveryId = request.headers.get('x-github-delivery') || undefined;
      return { event, deliveryId, ping: event === 'ping' };
    },

    parse(request, info) {
      const payload = decodePayload(request);
      const event: GitEvent = {
        event: info.event,
        deliveryId: info.deliveryId,
        repositories: repositoriesOf(payload, info.event !== 'ping'),
      };
      if (info.event === 'push') parsePush(payload, event);
      else if (info.event !== 'ping') parseOther(info.event, payload, event);
      return event;
    },

    sample(options) {
      const eventName = options.event ?? 'push';
      if (eventName !== 'push' && eventName !== 'ping') throw new Error(`github samples exist for push and ping, not "${eventName}"`);
      const deliveryId = options.deliveryId ?? host.randomId();
      const repo = sampleRepository(options.repository);
      const body = eventName === 'ping' ? pingPayload(repo) : pushPayload(host, repo, options);
      return {
        body: new TextEncoder().encode(JSON.stringify(body)),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'GitHub-Hookshot/5c3a9e1',
          'X-GitHub-Event': eventName,
          'X-GitHub-Delivery': deliveryId,
          'X-GitHub-Hook-ID': String(HOOK_ID),
          'X-GitHub-Hook-Installation-Target-Type': 'repository',
          'X-GitHub-Hook-Installation-Target-ID': String(repo.id),
        },
      };
    },

    sign(body, secrets): Record<string, string> {
      const secret = secrets.secret;
      if (!secret) return {};
      return {
        'X-Hub-Signature-256': `sha256=${host.hmac('sha256', secret, body, 'hex')}`,
        'X-Hub-Signature': `sha1=${host.hmac('sha1', secret, body, 'hex')}`,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Samples (not on the hot path)

const HOOK_ID = 512_334_071;

interface SampleRepository {
  id: number;
  host: string;
  owner: string;
  name: string;
  fullName: string;
  web: string;
  api: string;
}

/** `org/repo`, `https://host/org/repo(.git)`, `ssh://git@host/org/repo.git` or `git@host:org/repo.git`. */
function sampleRepository(input: string | undefined): SampleRepository {
  let hostName = 'github.com';
  let path = input?.trim() || 'example-org/example-app';
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(path);
  if (scp) {
    hostName = scp[1]!;
    path = scp[2]!;
  } else if (path.includes('://')) {
    const url = new URL(path);
    hostName = url.hostname;
    path = url.pathname;
  }
  path = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
  const slash = path.indexOf('/');
  const owner = slash > 0 ? path.slice(0, slash) : 'example-org';
  const name = slash > 0 ? path.slice(slash + 1) : path;
  const fullName = `${owner}/${name}`;
  const web = `https://${hostName}/${fullName}`;
  const api = hostName === 'github.com' ? `https://api.github.com` : `https://${hostName}/api/v3`;
  let id = 0;
  for (let index = 0; index < fullName.length; index++) id = (id * 31 + fullName.charCodeAt(index)) % 900_000_000;
  return { id: id + 100_000_000, host: hostName, owner, name, fullName, web, api };
}

function sha(host: PluginHost, seed: string): string {
  return host.hmac('sha1', 'fluxgate-sample', seed, 'hex');
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function account(repo: SampleRepository, login: string, id: number, type: 'User' | 'Organization'): Json {
  const api = `${repo.api}/users/${login}`;
  return {
    login,
    id,
    node_id: type === 'User' ? 'MDQ6VXNlcjU4MzIzMTE=' : 'MDEyOk9yZ2FuaXphdGlvbjkxOTk3NDg=',
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: `https://${repo.host}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    user_view_type: 'public',
    site_admin: false,
  };
}

/** The repository object as push deliveries carry it (timestamps as unix seconds, `url` = web URL). */
function repositoryObject(repo: SampleRepository, push: boolean, now: Date): Json {
  const api = `${repo.api}/repos/${repo.fullName}`;
  const created = Math.floor(now.getTime() / 1000) - 86_400 * 400;
  const pushed = Math.floor(now.getTime() / 1000);
  return {
    id: repo.id,
    node_id: 'R_kgDOKv3xQw',
    name: repo.name,
    full_name: repo.fullName,
    private: true,
    owner: push
      ? { name: repo.owner, email: null, ...account(repo, repo.owner, 91_997_480, 'Organization') }
      : account(repo, repo.owner, 91_997_480, 'Organization'),
    html_url: repo.web,
    description: 'Kubernetes manifests reconciled by Flux',
    fork: false,
    url: push ? repo.web : api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    events_url: `${api}/events`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    statuses_url: `${api}/statuses/{sha}`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    pulls_url: `${api}/pulls{/number}`,
    issues_url: `${api}/issues{/number}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: push ? created : isoSeconds(new Date(created * 1000)),
    updated_at: isoSeconds(now),
    pushed_at: push ? pushed : isoSeconds(now),
    git_url: `git://${repo.host}/${repo.fullName}.git`,
    ssh_url: `git@${repo.host}:${repo.fullName}.git`,
    clone_url: `${repo.web}.git`,
    svn_url: repo.web,
    homepage: null,
    size: 1843,
    stargazers_count: 4,
    watchers_count: 4,
    language: null,
    has_issues: true,
    has_projects: false,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    archived: false,
    disabled: false,
    open_issues_count: 2,
    license: null,
    allow_forking: false,
    is_template: false,
    web_commit_signoff_required: false,
    topics: ['flux', 'gitops', 'kubernetes'],
    visibility: 'private',
    forks: 0,
    open_issues: 2,
    watchers: 4,
    default_branch: 'main',
    ...(push ? { stargazers: 4, master_branch: 'main', organization: repo.owner } : {}),
  };
}

const DEFAULT_PATHS = ['apps/web/deployment.yaml', 'apps/web/kustomization.yaml', 'infrastructure/ingress-nginx/release.yaml'];
const MESSAGES = ['Bump web image to 1.14.2', 'Raise web replicas for the launch', 'Pin ingress-nginx chart to 4.11.3'];

function pushPayload(host: PluginHost, repo: SampleRepository, options: SampleOptions): Json {
  const now = new Date();
  const tag = options.tag;
  const ref = tag ? `refs/tags/${tag}` : `refs/heads/${options.branch ?? 'main'}`;
  const paths = options.changedPaths ?? DEFAULT_PATHS;
  const seed = `${repo.fullName}|${ref}|${now.getTime()}`;
  const before = tag ? ZERO_SHA : sha(host, `${seed}|before`);
  const pusher = { name: 'octo-dev', email: 'octo-dev@users.noreply.github.com' };
  const count = tag ? 1 : Math.max(1, Math.min(3, paths.length));
  const commits: Json[] = [];
  for (let index = 0; index < count; index++) {
    const id = sha(host, `${seed}|commit${index}`);
    const files = paths.filter((_, pathIndex) => pathIndex % count === index);
    const timestamp = new Date(now.getTime() - (count - index) * 60_000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    commits.push({
      id,
      tree_id: sha(host, `${seed}|tree${index}`),
      distinct: true,
      message: MESSAGES[index % MESSAGES.length],
      timestamp,
      url: `${repo.web}/commit/${id}`,
      author: { name: 'Octo Dev', email: pusher.email, username: pusher.name },
      committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
      added: index === 0 ? files.slice(0, 1) : [],
      removed: [],
      modified: index === 0 ? files.slice(1) : files,
    });
  }
  const headCommit = commits[commits.length - 1]!;
  const after = String(headCommit.id);
  return {
    ref,
    before,
    after,
    repository: repositoryObject(repo, true, now),
    pusher,
    organization: {
      login: repo.owner,
      id: 91_997_480,
      node_id: 'MDEyOk9yZ2FuaXphdGlvbjkxOTk3NDg=',
      url: `${repo.api}/orgs/${repo.owner}`,
      repos_url: `${repo.api}/orgs/${repo.owner}/repos`,
      events_url: `${repo.api}/orgs/${repo.owner}/events`,
      hooks_url: `${repo.api}/orgs/${repo.owner}/hooks`,
      issues_url: `${repo.api}/orgs/${repo.owner}/issues`,
      members_url: `${repo.api}/orgs/${repo.owner}/members{/member}`,
      public_members_url: `${repo.api}/orgs/${repo.owner}/public_members{/member}`,
      avatar_url: 'https://avatars.githubusercontent.com/u/91997480?v=4',
      description: '',
    },
    sender: account(repo, pusher.name, 5_832_311, 'User'),
    created: Boolean(tag),
    deleted: false,
    forced: false,
    base_ref: tag ? 'refs/heads/main' : null,
    compare: tag ? `${repo.web}/compare/${tag}` : `${repo.web}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits: tag ? [] : commits,
    head_commit: headCommit,
  };
}

function pingPayload(repo: SampleRepository): Json {
  const now = new Date();
  const hookUrl = `${repo.api}/repos/${repo.fullName}/hooks/${HOOK_ID}`;
  return {
    zen: 'Design for failure.',
    hook_id: HOOK_ID,
    hook: {
      type: 'Repository',
      id: HOOK_ID,
      name: 'web',
      active: true,
      events: ['push'],
      config: { content_type: 'json', insecure_ssl: '0', secret: '********', url: 'https://hooks.example.com/hook/github' },
      updated_at: now.toISOString(),
      created_at: now.toISOString(),
      url: hookUrl,
      test_url: `${hookUrl}/test`,
      ping_url: `${hookUrl}/pings`,
      deliveries_url: `${hookUrl}/deliveries`,
      last_response: { code: null, status: 'unused', message: null },
    },
    repository: repositoryObject(repo, false, now),
    sender: account(repo, 'octo-dev', 5_832_311, 'User'),
  };
}
