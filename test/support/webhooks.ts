/**
 * Webhook deliveries for tests, built from real published example payloads (`test/plugins/<type>/fixtures/`, whose
 * SOURCE.md says where each came from) and signed here with node:crypto, independently of the plugins under test. A test
 * changes only what it needs — repository, ref, delivery id — and `deliveryBody` is the one place a fixture is
 * rewritten. Header names are lowercase, so a test can replace or delete one by name.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fixturePath } from './fixture-path.ts';

export interface OutgoingWebhook {
  body: Uint8Array;
  headers: Record<string, string>;
}

/** What a test may change in a published payload; everything else stays as published. */
export interface Rewrite {
  /**
   * A repository path (`org/repo`, `group/sub/project`) put in place of the fixture's own one wherever it appears:
   * `full_name` / `path_with_namespace` and every URL field (web, clone, SSH, API). The host stays.
   */
  repository?: string;
  /** `ref` becomes `refs/heads/<branch>`. */
  branch?: string;
  /** `ref` becomes `refs/tags/<tag>` (wins over `branch`). */
  tag?: string;
  /** The pushed commit: `after`, and `checkout_sha` (GitLab) and `head_commit.id` (GitHub, Gitea) where the payload has them. */
  commit?: string;
  /** GitHub: `repository.pushed_at`, the push's own time (epoch seconds). */
  pushedAt?: number;
}

export interface DeliveryOptions extends Rewrite {
  /** The delivery id header (random by default). */
  deliveryId?: string;
}

const SAFE_REPOSITORY = /^[\w.-]+(?:\/[\w.-]+)+$/;

/** A fixture's exact published bytes, e.g. `fixtureBytes('github/ping.json')` (test/plugins/github/fixtures/ping.json). */
export function fixtureBytes(name: string): Uint8Array {
  return readFileSync(fixturePath(name));
}

/**
 * The body of a fixture with `rewrite` applied: the exact published bytes when there is nothing to rewrite,
 * else the same payload with the repository path replaced as text and `ref` set, serialized compactly as the
 * hosts send it.
 *
 * @example
 * deliveryBody('github/push-new-branch.json', { repository: 'your-org/your-repo', branch: 'main' });
 */
export function deliveryBody(name: string, rewrite: Rewrite = {}): Uint8Array {
  const bytes = fixtureBytes(name);
  if (rewrite.repository === undefined && rewrite.branch === undefined && rewrite.tag === undefined && rewrite.commit === undefined && rewrite.pushedAt === undefined) return bytes;
  let text = new TextDecoder().decode(bytes);
  if (rewrite.repository !== undefined) {
    if (!SAFE_REPOSITORY.test(rewrite.repository)) throw new Error(`not a repository path: ${rewrite.repository}`);
    const payload = JSON.parse(text) as { repository?: { full_name?: string }; project?: { path_with_namespace?: string } };
    const own = payload.repository?.full_name ?? payload.project?.path_with_namespace;
    if (own === undefined) throw new Error(`${name} names no repository to rewrite`);
    text = text.replaceAll(own, rewrite.repository);
  }
  const payload = JSON.parse(text) as Record<string, unknown>;
  if (rewrite.tag !== undefined) payload.ref = `refs/tags/${rewrite.tag}`;
  else if (rewrite.branch !== undefined) payload.ref = `refs/heads/${rewrite.branch}`;
  // Bitbucket Cloud: the ref and commit are each change's `new` (`new.name`, `new.target.hash`).
  const changes = (payload.push as { changes?: { new?: { name?: string; target?: { hash?: string } } }[] } | undefined)?.changes ?? [];
  for (const change of changes) {
    if (change.new && rewrite.branch !== undefined && rewrite.tag === undefined) change.new.name = rewrite.branch;
    if (change.new?.target && rewrite.commit !== undefined) change.new.target.hash = rewrite.commit;
  }
  if (rewrite.commit !== undefined) {
    payload.after = rewrite.commit;
    if ('checkout_sha' in payload) payload.checkout_sha = rewrite.commit;
    if (typeof payload.head_commit === 'object' && payload.head_commit !== null) (payload.head_commit as Record<string, unknown>).id = rewrite.commit;
  }
  if (rewrite.pushedAt !== undefined && typeof payload.repository === 'object' && payload.repository !== null) (payload.repository as Record<string, unknown>).pushed_at = rewrite.pushedAt;
  return new TextEncoder().encode(JSON.stringify(payload));
}

/** Where e2e targets point: the repository and branch every helper below defaults to. */
const defaults = { repository: 'your-org/your-repo', branch: 'main' };

/**
 * A GitHub delivery from octokit's published examples: a push (`push-new-branch.json`) or, with
 * `event: 'ping'`, the ping sent when a hook is created; signed with X-Hub-Signature-256 and -1 as GitHub does.
 */
export function githubWebhook(secret: string, options: DeliveryOptions & { event?: 'push' | 'ping' } = {}): OutgoingWebhook {
  const { event = 'push', deliveryId = randomUUID(), ...rewrite } = options;
  const body =
    event === 'ping'
      ? deliveryBody('github/ping.json', { repository: rewrite.repository ?? defaults.repository })
      : deliveryBody('github/push-new-branch.json', { ...defaults, ...rewrite });
  return signedGithub(secret, body, event, deliveryId);
}

/**
 * A GitHub push whose published payload a test changes in ways `Rewrite` does not (values of any length or
 * content): `change` edits the parsed payload of `push-new-branch.json`, which is then sent compactly and signed.
 *
 * @example githubPushWith(secret, (payload) => { payload.ref = `refs/heads/${'b'.repeat(1_000_000)}`; });
 */
export function githubPushWith(secret: string, change: (payload: Record<string, any>) => void, deliveryId: string = randomUUID()): OutgoingWebhook {
  const payload = JSON.parse(new TextDecoder().decode(fixtureBytes('github/push-new-branch.json'))) as Record<string, any>;
  change(payload);
  return signedGithub(secret, new TextEncoder().encode(JSON.stringify(payload)), 'push', deliveryId);
}

function signedGithub(secret: string, body: Uint8Array, event: string, deliveryId: string): OutgoingWebhook {
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '109948940',
      'x-github-hook-installation-target-type': 'repository',
      'x-github-hook-installation-target-id': '186853002',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
    },
  };
}

/** A GitLab Push Hook (or, with `tag`, Tag Push Hook) from GitLab's documented examples, without authentication. */
function gitlabDelivery(options: DeliveryOptions): OutgoingWebhook & { deliveryId: string } {
  const { deliveryId = randomUUID(), ...rewrite } = options;
  const tagged = rewrite.tag !== undefined;
  const body = deliveryBody(tagged ? 'gitlab/tag-push-hook.json' : 'gitlab/push-hook.json', { ...defaults, ...rewrite });
  return {
    body,
    deliveryId,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitLab/17.5.0',
      'x-gitlab-event': tagged ? 'Tag Push Hook' : 'Push Hook',
      'x-gitlab-instance': 'http://example.com',
      'x-gitlab-webhook-uuid': randomUUID(),
      'x-gitlab-event-uuid': randomUUID(),
      'idempotency-key': deliveryId,
    },
  };
}

/** A GitLab push authenticated with the X-Gitlab-Token header. */
export function gitlabWebhook(token: string, options: DeliveryOptions = {}): OutgoingWebhook {
  const { body, headers } = gitlabDelivery(options);
  return { body, headers: { ...headers, 'x-gitlab-token': token } };
}

/** A GitLab push signed with a signing token (Standard Webhooks over `{id}.{timestamp}.{body}`), id = Idempotency-Key. */
export function gitlabSignedWebhook(signingToken: string, nowSeconds: number, options: DeliveryOptions = {}): OutgoingWebhook {
  const { body, headers, deliveryId } = gitlabDelivery(options);
  const key = Buffer.from(signingToken.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${deliveryId}.${nowSeconds}.`), body])).digest('base64');
  return { body, headers: { ...headers, 'webhook-id': deliveryId, 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `v1,${signature}` } };
}

/** A Gitea push from Gitea's published example (`gitea/push.json`), signed with X-Gitea-Signature as Gitea does. */
export function giteaWebhook(secret: string, options: DeliveryOptions = {}): OutgoingWebhook {
  const { deliveryId = randomUUID(), ...rewrite } = options;
  const body = deliveryBody('gitea/push.json', { ...defaults, ...rewrite });
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  return { body, headers: { 'content-type': 'application/json', 'x-gitea-delivery': deliveryId, 'x-gitea-event': 'push', 'x-gitea-event-type': 'push', 'x-gitea-signature': signature } };
}

/** A Bitbucket Cloud repo:push from Atlassian's documented example (`bitbucket/push.json`), signed with X-Hub-Signature as Bitbucket does. */
export function bitbucketWebhook(secret: string, options: DeliveryOptions = {}): OutgoingWebhook {
  const { deliveryId = randomUUID(), ...rewrite } = options;
  const body = deliveryBody('bitbucket/push.json', { ...defaults, ...rewrite });
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  return { body, headers: { 'content-type': 'application/json', 'user-agent': 'Bitbucket-Webhooks/2.0', 'x-event-key': 'repo:push', 'x-request-uuid': deliveryId, 'x-attempt-number': '1', 'x-hub-signature': `sha256=${signature}` } };
}

export function post(url: string, hook: OutgoingWebhook): Promise<Response> {
  return fetch(url, { method: 'POST', headers: hook.headers, body: hook.body });
}
