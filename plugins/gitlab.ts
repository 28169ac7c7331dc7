/**
 * GitLab (gitlab.com and self-managed) project, group and system webhooks.
 *
 * Authentication, two mechanisms:
 * - `secret`: GitLab's secret token, sent verbatim in `X-Gitlab-Token` and compared in constant time.
 * - `signingSecret`: GitLab's signing token (`whsec_<base64 key>`), Standard Webhooks headers `webhook-id`,
 *   `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`,
 *   possibly several space-separated entries (key rotation); one match is enough. Timestamps more than 5 minutes
 *   away from the clock (either direction) are rejected as replays.
 *
 * When both are configured, a request may satisfy either: if it carries `webhook-signature`, the signature decides
 * (a bad signature is rejected even if the token is right, so a present signature is never overridden by the weaker
 * token); a request without `webhook-signature` is checked against `X-Gitlab-Token`. This lets hooks be migrated from
 * token to signing one at a time. To insist on signatures, configure only `signingSecret`.
 *
 * Delivery id: `Idempotency-Key` (stable across GitLab's retries), else `webhook-id` (the same value), else
 * `X-Gitlab-Webhook-UUID` (new per request). `X-Gitlab-Event-UUID` is deliberately NOT used: it is a
 * recursion-detection id shared by every hook a single event chain triggers, so deduplicating on it would drop
 * distinct deliveries. Those headers are not signed; when a Standard Webhooks signature verifies, `verify`
 * returns the `webhook-id` it covers, and that id is the one deduplicated on, so a replay within the 5-minute
 * window with a fresh `Idempotency-Key` is still a duplicate.
 */
import type { DeliveryInfo, GitEvent, PluginHost, ProviderPlugin, ProviderSecrets, SampleOptions, VerifyResult, WebhookRequest } from '../src/plugins/plugin-api.ts';

type Json = Record<string, unknown>;

const ZERO_SHA = '0000000000000000000000000000000000000000';
/** GitLab lists at most 20 commits and says how many there were in `total_commits_count`. */
const COMMIT_LIST_LIMIT = 20;
const TOLERANCE_SECONDS = 5 * 60;
const OK: VerifyResult = { ok: true };
const UNIX_SECONDS = /^\d{1,12}$/;
const PROJECT_URL_FIELDS = ['path_with_namespace', 'web_url', 'git_http_url', 'git_ssh_url', 'http_url', 'ssh_url'] as const;
const REPOSITORY_URL_FIELDS = ['homepage', 'git_http_url', 'git_ssh_url', 'url'] as const;
const encoder = new TextEncoder();

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

/** The HMAC key of a signing token: the bytes after `whsec_`, or the raw string when there is no prefix. */
function signingKey(secret: string): Uint8Array | string | null {
  if (!secret.startsWith('whsec_')) return secret;
  let binary: string;
  try {
    binary = atob(secret.slice(6));
  } catch {
    return null;
  }
  if (binary.length === 0) return null;
  const key = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) key[index] = binary.charCodeAt(index);
  return key;
}

/**
 * Why a configured signing token could never verify a delivery, or undefined. GitLab shows it as `whsec_` and
 * the base64 of 32 random bytes; Standard Webhooks allows keys of 24 to 64 bytes.
 */
function signingSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith('whsec_')) return 'a GitLab signing token starts with whsec_ (copy it whole, as GitLab shows it)';
  const encoded = secret.slice(6);
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? signingKey(secret) : null;
  if (key === null) return 'a GitLab signing token is whsec_ followed by base64, and the rest of this one is not base64';
  if (key.length < 24 || key.length > 64) return `a GitLab signing token is whsec_ followed by the base64 of 24 to 64 bytes (GitLab's have 32), and this one has ${key.length}`;
  return undefined;
}

export default function createGitlabPlugin(host: PluginHost): ProviderPlugin {
  const { PayloadError } = host;
  // One-entry cache: the signing token of a provider does not change between requests.
  let cachedSecret: string | undefined;
  let cachedKey: Uint8Array | string | null = null;

  function keyFor(secret: string): Uint8Array | string | null {
    if (secret !== cachedSecret) {
      cachedKey = signingKey(secret);
      cachedSecret = secret;
    }
    return cachedKey;
  }

  function standardWebhookSignature(key: Uint8Array | string, id: string, timestamp: string, body: Uint8Array): string {
    const prefix = encoder.encode(`${id}.${timestamp}.`);
    const data = new Uint8Array(prefix.length + body.length);
    data.set(prefix, 0);
    data.set(body, prefix.length);
    return host.hmac('sha256', key, data, 'base64');
  }

  function verifyStandardWebhook(request: WebhookRequest, signatures: string, signingSecret: string, now: Date): VerifyResult {
    const headers = request.headers;
    const id = headers.get('webhook-id');
    if (!id) return fail('missing webhook-id header');
    const timestamp = headers.get('webhook-timestamp');
    if (!timestamp) return fail('missing webhook-timestamp header');
    if (!UNIX_SECONDS.test(timestamp)) return fail('webhook-timestamp is not a unix time in seconds');
    const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
    if (age > TOLERANCE_SECONDS) return fail('webhook-timestamp is more than 5 minutes old');
    if (age < -TOLERANCE_SECONDS) return fail('webhook-timestamp is more than 5 minutes in the future');
    const key = keyFor(signingSecret);
    if (key === null) return fail('configured signingSecret is not whsec_ followed by base64');
    const expected = standardWebhookSignature(key, id, timestamp, request.body);
    let sawVersion1 = false;
    for (const entry of signatures.split(' ')) {
      if (!entry.startsWith('v1,')) continue; // empty entries, other versions (v1a = asymmetric) are skipped
      sawVersion1 = true;
      // The signature covers webhook-id: the one delivery id a replay cannot change.
      if (host.safeEqual(entry.slice(3), expected)) return { ok: true, deliveryId: id };
    }
    return fail(sawVersion1 ? 'signature does not match' : 'webhook-signature has no v1 signature');
  }

  function repositoriesOf(payload: Json): string[] {
    const found: string[] = [];
    host.collectUrls(payload.project, 'project', PROJECT_URL_FIELDS, found);
    host.collectUrls(payload.repository, 'repository', REPOSITORY_URL_FIELDS, found);
    if (found.length === 0) throw new PayloadError('payload has no project or repository');
    return found;
  }

  function optionalString(object: Json, field: string): string | undefined {
    const value = object[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new PayloadError(`${field} is not a string`);
    return value;
  }

  function changedPathsOf(payload: Json): string[] | undefined {
    const commits = payload.commits;
    if (commits === undefined || commits === null) return undefined;
    if (!Array.isArray(commits)) throw new PayloadError('commits is not an array');
    const total = payload.total_commits_count;
    if (total !== undefined && total !== null && typeof total !== 'number') throw new PayloadError('total_commits_count is not a number');
    // An empty list says nothing (tag pushes, some new branches); a capped list is missing commits.
    if (commits.length === 0) return undefined;
    if (typeof total === 'number' ? total > commits.length : commits.length >= COMMIT_LIST_LIMIT) return undefined;
    return host.commitFiles(commits, 'commits');
  }

  function parsePush(payload: Json, event: GitEvent): void {
    const ref = optionalString(payload, 'ref');
    if (ref === undefined) throw new PayloadError('push payload has no ref');
    event.ref = ref;
    if (ref.startsWith('refs/heads/')) event.branch = ref.slice(11);
    else if (ref.startsWith('refs/tags/')) event.tag = ref.slice(10);
    const after = optionalString(payload, 'after');
    const checkoutSha = optionalString(payload, 'checkout_sha');
    if (after === ZERO_SHA) {
      event.deleted = true;
      return;
    }
    event.deleted = false;
    // checkout_sha is the commit; for an annotated tag `after` is the tag object.
    event.commit = checkoutSha ?? after;
    event.changedPaths = changedPathsOf(payload);
  }

  return {
    id: 'gitlab',
    defaultEvents: ['Push Hook', 'Tag Push Hook', 'System Hook'],
    secretFields: ['secret', 'signingSecret'],

    checkSecret(field, value) {
      return field === 'signingSecret' ? signingSecretProblem(value) : undefined;
    },

    verify(request, secrets: ProviderSecrets, now) {
      const { secret, signingSecret } = secrets;
      const headers = request.headers;
      if (signingSecret) {
        const signatures = headers.get('webhook-signature');
        if (signatures) return verifyStandardWebhook(request, signatures, signingSecret, now);
      }
      if (secret) {
        const token = headers.get('x-gitlab-token');
        if (!token) return fail(signingSecret ? 'missing webhook-signature or X-Gitlab-Token header' : 'missing X-Gitlab-Token header');
        return host.safeEqual(token, secret) ? OK : fail('X-Gitlab-Token does not match');
      }
      if (signingSecret) return fail('missing webhook-signature header');
      return fail('no secret or signingSecret configured for this provider');
    },

    describe(request): DeliveryInfo {
      const headers = request.headers;
      return {
        event: headers.get('x-gitlab-event') ?? '',
        // Not X-Gitlab-Event-UUID: that one identifies an event chain for recursion detection, not a delivery.
        deliveryId: headers.get('idempotency-key') || headers.get('webhook-id') || headers.get('x-gitlab-webhook-uuid') || undefined,
        ping: false,
      };
    },

    parse(request, info) {
      const payload = host.json(request.body);
      if (!isObject(payload)) throw new PayloadError('payload is not a JSON object');
      const event: GitEvent = { event: info.event, deliveryId: info.deliveryId, repositories: [] };
      // System hooks name the event in `event_name`; project and group hooks in `object_kind` (and `event_name`).
      const kindField = info.event === 'System Hook' ? payload.event_name ?? payload.object_kind : payload.object_kind ?? payload.event_name;
      if (kindField !== undefined && typeof kindField !== 'string') throw new PayloadError('object_kind is not a string');
      if (kindField === 'push' || kindField === 'tag_push') {
        event.repositories = repositoriesOf(payload);
        parsePush(payload, event);
        return event;
      }
      if (info.event === 'System Hook') {
        if (kindField === undefined) throw new PayloadError('System Hook has no event_name');
        // One system hook receives every instance event; most are not about code and are simply not for us.
        event.ignored = `System Hook event "${kindField.slice(0, 40)}" is not a push`;
        return event;
      }
      // Any other hook the provider's `events` let through: best effort, the project and no ref.
      event.repositories = repositoriesOf(payload);
      return event;
    },

    sample(options) {
      const tag = options.tag;
      const eventName = options.event ?? (tag ? 'Tag Push Hook' : 'Push Hook');
      if (eventName !== 'Push Hook' && eventName !== 'Tag Push Hook' && eventName !== 'System Hook') {
        throw new Error(`gitlab samples exist for Push Hook, Tag Push Hook and System Hook, not "${eventName}"`);
      }
      const project = sampleProject(options.repository);
      const body = pushPayload(host, project, options, eventName);
      return {
        body: encoder.encode(JSON.stringify(body)),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'GitLab/18.6.1-ee',
          'X-Gitlab-Event': eventName,
          'X-Gitlab-Instance': project.instance,
          'X-Gitlab-Webhook-UUID': host.randomId(),
          'X-Gitlab-Event-UUID': host.randomId(),
          'Idempotency-Key': options.deliveryId ?? host.randomId(),
        },
      };
    },

    sign(body, secrets, options) {
      const headers: Record<string, string> = {};
      if (secrets.secret) headers['X-Gitlab-Token'] = secrets.secret;
      if (secrets.signingSecret) {
        const key = signingKey(secrets.signingSecret);
        if (key === null) throw new Error('signingSecret is not whsec_ followed by base64');
        const id = options?.deliveryId ?? host.randomId();
        const timestamp = String(Math.floor((options?.now ?? new Date()).getTime() / 1000));
        headers['webhook-id'] = id;
        headers['webhook-timestamp'] = timestamp;
        headers['webhook-signature'] = `v1,${standardWebhookSignature(key, id, timestamp, body)}`;
      }
      return headers;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Samples (not on the hot path)

interface SampleProject {
  id: number;
  instance: string;
  sshHost: string;
  path: string;
  name: string;
  namespace: string;
  web: string;
}

/** `group/sub/project`, `https://host/group/project(.git)`, `ssh://git@host/...` or `git@host:group/project.git`. */
function sampleProject(input: string | undefined): SampleProject {
  let instance = 'https://gitlab.com';
  let sshHost = 'gitlab.com';
  let path = input?.trim() || 'example-group/platform/example-app';
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(path);
  if (scp) {
    sshHost = scp[1]!;
    instance = `https://${sshHost}`;
    path = scp[2]!;
  } else if (path.includes('://')) {
    const url = new URL(path);
    sshHost = url.hostname;
    instance = url.protocol === 'http:' || url.protocol === 'https:' ? `${url.protocol}//${url.host}` : `https://${url.hostname}`;
    path = url.pathname;
  }
  path = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
  if (!path.includes('/')) path = `example-group/${path}`;
  const slash = path.lastIndexOf('/');
  let id = 0;
  for (let index = 0; index < path.length; index++) id = (id * 31 + path.charCodeAt(index)) % 90_000_000;
  return { id: id + 10_000_000, instance, sshHost, path, name: path.slice(slash + 1), namespace: path.slice(0, slash), web: `${instance}/${path}` };
}

const DEFAULT_PATHS = ['clusters/production/apps.yaml', 'apps/api/deployment.yaml', 'apps/api/kustomization.yaml'];
const TITLES = ['Bump api image to 2.8.0', 'Scale api to 4 replicas', 'Add api PodDisruptionBudget'];

function pushPayload(host: PluginHost, project: SampleProject, options: SampleOptions, eventName: string): Json {
  const now = new Date();
  const tag = options.tag ?? (eventName === 'Tag Push Hook' ? 'v1.0.0' : undefined);
  const ref = tag ? `refs/tags/${tag}` : `refs/heads/${options.branch ?? 'main'}`;
  const kind = tag ? 'tag_push' : 'push';
  const paths = options.changedPaths ?? DEFAULT_PATHS;
  const seed = `${project.path}|${ref}|${now.getTime()}`;
  const sha = (suffix: string) => host.hmac('sha1', 'fluxgate-sample', `${seed}|${suffix}`, 'hex');
  const user = { name: 'Gitte Lab', username: 'glab', email: 'glab@example.com' };
  const count = Math.max(1, Math.min(3, paths.length));
  const commits: Json[] = [];
  for (let index = 0; index < count; index++) {
    const id = sha(`commit${index}`);
    const files = paths.filter((_, pathIndex) => pathIndex % count === index);
    const title = TITLES[index % TITLES.length]!;
    commits.push({
      id,
      message: `${title}\n`,
      title,
      timestamp: new Date(now.getTime() - (count - index) * 60_000).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      url: `${project.web}/-/commit/${id}`,
      author: { name: user.name, email: '[REDACTED]' },
      added: index === 0 ? files.slice(0, 1) : [],
      modified: index === 0 ? files.slice(1) : files,
      removed: [],
    });
  }
  const checkoutSha = String(commits[commits.length - 1]!.id);
  const httpUrl = `${project.web}.git`;
  const sshUrl = `git@${project.sshHost}:${project.path}.git`;
  const header = eventName === 'System Hook'
    ? { event_name: kind, created_at: now.toISOString(), updated_at: now.toISOString() }
    : { object_kind: kind, event_name: kind };
  return {
    ...header,
    before: tag ? ZERO_SHA : sha('before'),
    after: tag ? sha('tag-object') : checkoutSha,
    ref,
    ref_protected: true,
    checkout_sha: checkoutSha,
    message: tag ? `Release ${tag}` : null,
    user_id: 2_914_071,
    user_name: user.name,
    user_username: user.username,
    user_email: '',
    user_avatar: `https://secure.gravatar.com/avatar/${sha('avatar').slice(0, 32)}?s=80&d=identicon`,
    project_id: project.id,
    project: {
      id: project.id,
      name: project.name,
      description: 'Flux-managed Kubernetes manifests',
      web_url: project.web,
      avatar_url: null,
      git_ssh_url: sshUrl,
      git_http_url: httpUrl,
      namespace: project.namespace.slice(project.namespace.lastIndexOf('/') + 1),
      visibility_level: 0,
      path_with_namespace: project.path,
      default_branch: 'main',
      ci_config_path: '',
      homepage: project.web,
      url: sshUrl,
      ssh_url: sshUrl,
      http_url: httpUrl,
    },
    commits: tag ? [] : commits,
    total_commits_count: tag ? 0 : commits.length,
    push_options: {},
    repository: {
      name: project.name,
      url: sshUrl,
      description: 'Flux-managed Kubernetes manifests',
      homepage: project.web,
      git_http_url: httpUrl,
      git_ssh_url: sshUrl,
      visibility_level: 0,
    },
  };
}
