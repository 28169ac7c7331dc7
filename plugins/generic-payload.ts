/**
 * The payload shape shared by the `generic` and `generic-hmac` providers: for CI jobs, scripts and Git hosts
 * without a plugin of their own. Not a plugin itself (no default export).
 *
 * Body (JSON object):
 * ```jsonc
 * {
 *   "repository": "your-org/your-repo",   // required: a slug or URL (https, ssh, scp-style), or an array of them (at most 32)
 *   "ref": "refs/heads/main",             // optional full ref; refs/heads/* sets branch, refs/tags/* sets tag
 *   "branch": "main",                     // optional, instead of ref (must agree with ref if both are given)
 *   "tag": "v1.2.0",                      // optional, instead of ref (not together with branch)
 *   "commit": "3f2a9c0…",                 // optional commit SHA or digest
 *   "paths": ["apps/web/deploy.yaml"],    // optional changed paths; omitted or over 1000 = unknown, so path filters pass
 *   "deleted": false                      // optional, true when the ref was deleted
 * }
 * ```
 * As a convenience, GitHub-style push payloads are accepted too: `repository` as an object (`full_name`,
 * `html_url`, `clone_url`, `ssh_url`, `git_url`, `url`), `ref`, `after` (commit) and `commits[]` with
 * `added`/`modified`/`removed` (20 or more commits = possibly truncated = paths unknown).
 *
 * Headers: `X-Event` names the event (default `push`); `X-Delivery` or else `X-Request-Id` is the delivery id.
 */
import type { DeliveryInfo, GitEvent, PluginHost, SampleOptions, WebhookRequest } from '../src/plugins/plugin-api.ts';

type Json = Record<string, unknown>;

export interface GenericPayload {
  describe(request: WebhookRequest): DeliveryInfo;
  parse(request: WebhookRequest, info: DeliveryInfo): GitEvent;
  sample(options: SampleOptions): { body: Uint8Array; headers: Record<string, string> };
}

const ZERO_SHA = '0000000000000000000000000000000000000000';
const COMMIT_LIST_LIMIT = 20;
const REPOSITORY_URL_FIELDS = ['full_name', 'html_url', 'clone_url', 'ssh_url', 'git_url', 'url'] as const;
const URL_FIELD = ['url'] as const;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createGenericPayload(host: PluginHost): GenericPayload {
  const { PayloadError } = host;

  function optionalString(payload: Json, field: string): string | undefined {
    const value = payload[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new PayloadError(`${field} is not a string`);
    return value;
  }

  function repositoriesOf(value: unknown): string[] {
    const found: string[] = [];
    if (typeof value === 'string') {
      if (value !== '') found.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item !== 'string') throw new PayloadError('repository array holds a non-string');
        // Through the host's collector: it drops repeats in constant time and refuses a list over its cap.
        host.collectUrls({ url: item }, 'repository', URL_FIELD, found);
      }
    } else if (isObject(value)) {
      host.collectUrls(value, 'repository', REPOSITORY_URL_FIELDS, found);
    } else if (value === undefined || value === null) {
      throw new PayloadError('payload has no repository');
    } else {
      throw new PayloadError('repository is not a string, array or object');
    }
    if (found.length === 0) throw new PayloadError('repository is empty');
    return found;
  }

  function pathsOf(payload: Json): string[] | undefined {
    const paths = payload.paths;
    if (paths !== undefined && paths !== null) {
      if (!Array.isArray(paths)) throw new PayloadError('paths is not an array');
      for (const path of paths) if (typeof path !== 'string') throw new PayloadError('paths holds a non-string');
      // Read as one commit's file list, so the host's cap on changed paths applies (beyond it: unknown).
      return host.commitFiles([{ modified: paths }], 'paths');
    }
    const commits = payload.commits;
    if (commits === undefined || commits === null) return undefined;
    if (!Array.isArray(commits)) throw new PayloadError('commits is not an array');
    if (commits.length === 0 || commits.length >= COMMIT_LIST_LIMIT) return undefined;
    return host.commitFiles(commits, 'commits');
  }

  return {
    describe(request) {
      const headers = request.headers;
      return {
        event: headers.get('x-event') || 'push',
        deliveryId: headers.get('x-delivery') || headers.get('x-request-id') || undefined,
        ping: false,
      };
    },

    parse(request, info) {
      const payload = host.json(request.body);
      if (!isObject(payload)) throw new PayloadError('payload is not a JSON object');
      const event: GitEvent = { event: info.event, deliveryId: info.deliveryId, repositories: repositoriesOf(payload.repository) };

      const ref = optionalString(payload, 'ref');
      const branch = optionalString(payload, 'branch');
      const tag = optionalString(payload, 'tag');
      if (branch !== undefined && tag !== undefined) throw new PayloadError('give branch or tag, not both');
      if (ref !== undefined) {
        if (!ref.startsWith('refs/')) throw new PayloadError('ref must be a full ref such as refs/heads/main (or use branch/tag)');
        event.ref = ref;
        if (ref.startsWith('refs/heads/')) event.branch = ref.slice(11);
        else if (ref.startsWith('refs/tags/')) event.tag = ref.slice(10);
        if (branch !== undefined && branch !== event.branch) throw new PayloadError('branch and ref disagree');
        if (tag !== undefined && tag !== event.tag) throw new PayloadError('tag and ref disagree');
      } else if (branch !== undefined) {
        event.ref = `refs/heads/${branch}`;
        event.branch = branch;
      } else if (tag !== undefined) {
        event.ref = `refs/tags/${tag}`;
        event.tag = tag;
      }

      const deleted = payload.deleted;
      if (deleted !== undefined && deleted !== null && typeof deleted !== 'boolean') throw new PayloadError('deleted is not a boolean');
      const after = optionalString(payload, 'after');
      if (deleted === true || after === ZERO_SHA) {
        event.deleted = true;
        return event;
      }
      const commit = optionalString(payload, 'commit') ?? after;
      if (commit !== undefined) event.commit = commit;
      if (deleted === false) event.deleted = false;
      event.changedPaths = pathsOf(payload);
      return event;
    },

    sample(options) {
      const body: Json = { repository: options.repository ?? 'example-org/example-app' };
      if (options.tag !== undefined) body.ref = `refs/tags/${options.tag}`;
      else body.ref = `refs/heads/${options.branch ?? 'main'}`;
      body.commit = host.hmac('sha1', 'fluxgate-sample', `${String(body.repository)}|${String(body.ref)}|${Date.now()}`, 'hex');
      // Paths only when asked for: a sample without them passes every path filter, as an unknown change set should.
      if (options.changedPaths !== undefined) body.paths = options.changedPaths;
      return {
        body: new TextEncoder().encode(JSON.stringify(body)),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'fluxgate-send',
          'X-Event': options.event ?? 'push',
          'X-Delivery': options.deliveryId ?? host.randomId(),
        },
      };
    },
  };
}
