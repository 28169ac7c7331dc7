/**
 * `fluxgate register` on Gitea and Forgejo: repository and organization webhooks. There is no public instance to
 * default to, so `register.apiUrl` is required. The client (hook-client.ts) is imported only when register runs.
 */
import { headerHookEvent, type Registration } from '../../src/provider-kit/index.ts';

export const registration: Registration = {
  spec: {
    title: 'Gitea',
    scopeKeys: ['repositories', 'organization'],
    exampleApiUrl: 'https://gitea.example.com/api/v1',
    hookEvent: headerHookEvent,
  },
  client: async (options) => (await import('./hook-client.ts')).giteaHost(options),
};
