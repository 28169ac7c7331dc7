/**
 * The relay's tokens: each subscriber's (the edge) and the upstream's (the agent), resolved like providers'
 * secrets. A token guards what a cluster is told to reconcile: it is long, it is no placeholder (an edge reconciles
 * nothing itself, so dry-run does not make one harmless there), and no two subscribers share one.
 */
import { isPlaceholderSecret } from './placeholder-secrets.ts';
import type { RuleIssue } from './rule-issue.ts';
import type { Config } from './schema.ts';
import { resolveSecret, secretOrigin, type SecretSources } from './secrets.ts';

/** Shorter tokens are refused: `openssl rand -hex 32` makes a good one. */
export const MIN_RELAY_TOKEN_LENGTH = 16;

export interface RelaySecrets {
  /** Each subscriber's token, by subscriber name. */
  subscribers: Map<string, string>;
  upstream?: string;
  problems: RuleIssue[];
}

/**
 * @example
 * const { subscribers, upstream, problems } = resolveRelaySecrets(config, { env: process.env, readFile }, sendsNothing);
 */
export function resolveRelaySecrets(config: Config, sources: SecretSources, agentSendsNothing: boolean): RelaySecrets {
  const problems: RuleIssue[] = [];
  const subscribers = new Map<string, string>();
  const owners = new Map<string, string>();
  config.relay?.subscribers.forEach((subscriber, index) => {
    const path = ['relay', 'subscribers', index, 'token'];
    const token = resolved(subscriber.token, sources, path, problems, false);
    if (token === undefined) return;
    const other = owners.get(token);
    if (other !== undefined) problems.push({ path, message: `subscriber "${subscriber.name}" has the token of subscriber "${other}": each agent needs its own` });
    owners.set(token, subscriber.name);
    subscribers.set(subscriber.name, token);
  });
  const upstream = config.upstream && resolved(config.upstream.token, sources, ['upstream', 'token'], problems, agentSendsNothing);
  return { subscribers, ...(upstream !== undefined ? { upstream } : {}), problems };
}

function resolved(ref: Parameters<typeof resolveSecret>[0], sources: SecretSources, path: (string | number)[], problems: RuleIssue[], placeholderAllowed: boolean): string | undefined {
  let token: string;
  try {
    token = resolveSecret(ref, sources);
  } catch (error) {
    problems.push({ path, message: (error as Error).message });
    return undefined;
  }
  const origin = secretOrigin(ref);
  if (!placeholderAllowed && isPlaceholderSecret(token)) {
    problems.push({ path, message: `${origin.name} holds a placeholder, not a token: anyone could read what the edge relays with it; ${origin.fix} (openssl rand -hex 32)` });
    return undefined;
  }
  if (token.length < MIN_RELAY_TOKEN_LENGTH) {
    problems.push({ path, message: `${origin.name} holds ${token.length} characters; a relay token has at least ${MIN_RELAY_TOKEN_LENGTH} (openssl rand -hex 32)` });
    return undefined;
  }
  return token;
}
