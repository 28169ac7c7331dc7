/**
 * `fluxgate send`: builds a realistic sample event for a provider type, signs it as the provider would, and
 * posts it, so a user can test a route end to end without pushing to Git.
 */
import { randomUUID } from 'node:crypto';
import { builtinCatalog } from '../plugins/catalog.ts';
import type { ProviderSecrets } from '../plugins/plugin-api.ts';

export interface SendOptions {
  url: string;
  providerType: string;
  secret?: string;
  signingSecret?: string;
  event?: string;
  repository?: string;
  branch?: string;
  tag?: string;
}

export async function runSend(options: SendOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const plugin = builtinCatalog().get(options.providerType);
  if (!plugin) {
    err(`unknown provider type "${options.providerType}" (known: ${[...builtinCatalog().keys()].join(', ')})`);
    return 2;
  }
  // One delivery id for both: GitLab's signed webhook-id must equal its Idempotency-Key.
  const deliveryId = randomUUID();
  const sample = plugin.sample({ event: options.event, repository: options.repository, branch: options.branch, tag: options.tag, deliveryId });
  const secrets: ProviderSecrets = { secret: options.secret, signingSecret: options.signingSecret };
  const headers = { ...sample.headers, ...plugin.sign(sample.body, secrets, { now: new Date(), deliveryId }) };
  let response: Response;
  try {
    response = await fetch(options.url, { method: 'POST', headers, body: sample.body });
  } catch (error) {
    err(`cannot reach ${options.url}: ${(error as Error).message}`);
    return 1;
  }
  out(`${response.status} ${response.statusText}`);
  out(await response.text());
  return response.ok ? 0 : 1;
}
