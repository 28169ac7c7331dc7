/**
 * `fluxgate send`: builds a realistic sample event for a provider type, signs it as the provider would, and
 * posts it, so a user can test a route end to end without pushing to Git.
 */
import { randomUUID } from 'node:crypto';
import { builtinCatalog } from '../plugins/catalog.ts';
import type { ProviderPlugin, ProviderSecrets } from '../plugins/plugin-api.ts';

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

const FLAGS: Record<keyof ProviderSecrets, string> = { secret: '--secret S', signingSecret: '--signing-secret S' };

/**
 * What is wrong with `send`'s arguments, as one sentence naming every missing argument, or undefined.
 *
 * @example
 * sendArgumentsProblem({}); // 'missing --provider-type T and URL'
 * sendArgumentsProblem({ providerType: 'github', url: 'http://127.0.0.1:9292/hook/github' });
 * // 'missing --secret S (type github signs with it)'
 */
export function sendArgumentsProblem(options: Partial<SendOptions>, catalog: ReadonlyMap<string, ProviderPlugin> = builtinCatalog()): string | undefined {
  const missing: string[] = [];
  if (!options.providerType) missing.push('--provider-type T');
  if (!options.url) missing.push('URL');
  const plugin = options.providerType ? catalog.get(options.providerType) : undefined;
  if (options.providerType && !plugin) {
    const unknown = `unknown provider type "${options.providerType}" (known: ${[...catalog.keys()].join(', ')})`;
    return missing.length > 0 ? `${unknown}; missing ${missing.join(' and ')}` : unknown;
  }
  if (plugin && !plugin.supportsUnsigned && !plugin.secretFields.some((field) => options[field])) {
    missing.push(`${plugin.secretFields.map((field) => FLAGS[field]).join(' or ')} (type ${plugin.id} signs with ${plugin.secretFields.length > 1 ? 'one of them' : 'it'})`);
  }
  if (missing.length > 0) return `missing ${missing.slice(0, -1).join(', ')}${missing.length > 1 ? ' and ' : ''}${missing[missing.length - 1]}`;
  for (const field of plugin?.secretFields ?? []) {
    const value = options[field];
    const problem = value === undefined ? undefined : plugin?.checkSecret?.(field, value);
    if (problem !== undefined) return `${FLAGS[field].split(' ')[0]}: ${problem}`;
  }
  return undefined;
}

export async function runSend(options: SendOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const problem = sendArgumentsProblem(options);
  const plugin = builtinCatalog().get(options.providerType);
  if (problem !== undefined || !plugin) {
    err(`error: ${problem}`);
    return 2;
  }
  // One delivery id for both: GitLab's signed webhook-id must equal its Idempotency-Key.
  const deliveryId = randomUUID();
  let sample: { body: Uint8Array; headers: Record<string, string> };
  let headers: Record<string, string>;
  try {
    sample = plugin.sample({ event: options.event, repository: options.repository, branch: options.branch, tag: options.tag, deliveryId });
    const secrets: ProviderSecrets = { secret: options.secret, signingSecret: options.signingSecret };
    headers = { ...sample.headers, ...plugin.sign(sample.body, secrets, { now: new Date(), deliveryId }) };
  } catch (error) {
    // e.g. an event the provider has no sample for: a usage problem, not a failed delivery.
    err(`error: ${(error as Error).message}`);
    return 2;
  }
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
