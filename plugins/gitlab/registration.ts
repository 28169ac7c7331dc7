/**
 * `fluxgate register` on GitLab (gitlab.com or self-managed): project and group hooks, one flag per event. The
 * client (hook-client.ts, on gitbeaker) is imported only when register runs.
 */
import type { Registration } from '../../src/provider-kit/index.ts';
import { GITLAB_EVENT_FLAGS } from './hook-events.ts';

export const registration: Registration = {
  spec: {
    title: 'GitLab',
    scopeKeys: ['projects', 'groups'],
    defaultApiUrl: 'https://gitlab.com',
    exampleApiUrl: 'https://gitlab.example.com',
    // System hooks are set up by an administrator, not subscribed to per project or group.
    hookEvent: (event) => (event === 'System Hook' ? null : Object.hasOwn(GITLAB_EVENT_FLAGS, event) ? GITLAB_EVENT_FLAGS[event] : undefined),
  },
  client: async (options) => (await import('./hook-client.ts')).gitlabHost(options),
};
