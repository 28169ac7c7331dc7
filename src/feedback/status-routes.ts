/**
 * Which credentials a delivery's commit statuses use: those `register` uses — the `register` block (token, apiUrl)
 * of the provider that received the push, or, for a delivery without one of its own (a Flux Receiver's, say), of
 * the first provider of the same type that has one. Tokens are resolved here, once per config, and never shown.
 */
import { isPlaceholderSecret, resolveSecret, type Config, type SecretSources } from '../config/index.ts';
import type { TicketCause } from '../core/index.ts';
import type { Catalog } from '../provider-kit/index.ts';
import type { StatusRoute } from './status-writer.ts';

export interface StatusRoutes {
  route(cause: TicketCause): StatusRoute | undefined;
  /** Providers whose statuses cannot be sent, and why (a token that does not resolve): for the log and the status page. */
  problems: string[];
}

/**
 * @example
 * const routes = statusRoutes(config, catalog, { env: process.env, readFile });
 * routes.route({ provider: 'github', type: 'github', commit }); // { provider: 'github', apiUrl: 'https://api.github.com', … }
 */
export function statusRoutes(config: Config, catalog: Pick<Catalog, 'commitStatuses'>, sources: SecretSources): StatusRoutes {
  const byName = new Map<string, StatusRoute>();
  const byType = new Map<string, StatusRoute>();
  const problems: string[] = [];
  for (const provider of config.providers) {
    const statuses = catalog.commitStatuses.get(provider.type);
    if (!provider.register || !statuses) continue;
    const apiUrl = provider.register.apiUrl ?? statuses.spec.defaultApiUrl;
    let token: string;
    try {
      token = resolveSecret(provider.register.token, sources);
    } catch (error) {
      problems.push(`provider ${provider.name}: no commit statuses: register.token: ${(error as Error).message}`);
      continue;
    }
    if (isPlaceholderSecret(token)) {
      problems.push(`provider ${provider.name}: no commit statuses: register.token is a placeholder`);
      continue;
    }
    if (apiUrl === undefined) continue; // the config rules ask for apiUrl where the host has no default
    const route: StatusRoute = { provider: provider.name, type: provider.type, statuses, apiUrl, token };
    byName.set(provider.name, route);
    if (!byType.has(provider.type)) byType.set(provider.type, route);
  }
  return {
    route: (cause) => byName.get(cause.provider) ?? (cause.type !== undefined ? byType.get(cause.type) : undefined),
    problems,
  };
}
