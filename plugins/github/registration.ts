/**
 * `fluxgate register` on GitHub (github.com or Enterprise Server): repository and organization webhooks. The client
 * (hook-client.ts) is imported only when register runs.
 */
import { headerHookEvent, type Registration } from '../../src/provider-kit/index.ts';

export const registration: Registration = {
  spec: {
    title: 'GitHub',
    scopeKeys: ['repositories', 'organization'],
    defaultApiUrl: 'https://api.github.com',
    exampleApiUrl: 'https://github.example.com/api/v3',
    // github.com serves its API on a host of its own; Enterprise Server under /api/v3 of the web host.
    webHost(apiUrl) {
      const host = new URL(apiUrl).hostname.toLowerCase();
      return host === 'api.github.com' ? 'github.com' : host;
    },
    // `ping` comes with every new hook, unasked.
    hookEvent: (event) => (event === 'ping' ? null : headerHookEvent(event)),
  },
  client: async (options) => (await import('./hook-client.ts')).githubHost(options),
};
