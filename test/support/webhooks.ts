/**
 * Signed webhook requests built the way the Git hosts build them. Signatures are computed here with
 * node:crypto, independently of the plugins under test.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { builtinCatalog } from '../../src/plugins/catalog.ts';
import type { SampleOptions } from '../../src/plugins/plugin-api.ts';

export interface OutgoingWebhook {
  body: Uint8Array;
  headers: Record<string, string>;
}

const catalog = builtinCatalog();

function sample(type: string, options: SampleOptions): OutgoingWebhook {
  const plugin = catalog.get(type);
  if (!plugin) throw new Error(`no plugin ${type}`);
  return plugin.sample({ deliveryId: randomUUID(), ...options });
}

/** A GitHub push (or other event), signed with X-Hub-Signature-256 like GitHub does. */
export function githubWebhook(secret: string, options: SampleOptions = {}): OutgoingWebhook {
  const hook = sample('github', { repository: 'your-org/your-repo', branch: 'main', ...options });
  const signature = `sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`;
  return { body: hook.body, headers: { ...hook.headers, 'x-hub-signature-256': signature } };
}

/** A GitLab Push Hook with the X-Gitlab-Token header. */
export function gitlabWebhook(token: string, options: SampleOptions = {}): OutgoingWebhook {
  const hook = sample('gitlab', { repository: 'your-org/your-repo', branch: 'main', ...options });
  return { body: hook.body, headers: { ...hook.headers, 'x-gitlab-token': token } };
}

/** A GitLab webhook signed with a signing token (Standard Webhooks). */
export function gitlabSignedWebhook(signingToken: string, nowSeconds: number, options: SampleOptions = {}): OutgoingWebhook {
  const hook = sample('gitlab', { repository: 'your-org/your-repo', branch: 'main', ...options });
  const id = hook.headers['Idempotency-Key'] ?? hook.headers['idempotency-key'] ?? randomUUID();
  const key = Buffer.from(signingToken.replace(/^whsec_/, ''), 'base64');
  const signed = Buffer.concat([Buffer.from(`${id}.${nowSeconds}.`), hook.body]);
  const signature = createHmac('sha256', key).update(signed).digest('base64');
  return { body: hook.body, headers: { ...hook.headers, 'webhook-id': id, 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `v1,${signature}` } };
}

export function post(url: string, hook: OutgoingWebhook): Promise<Response> {
  return fetch(url, { method: 'POST', headers: hook.headers, body: hook.body });
}
