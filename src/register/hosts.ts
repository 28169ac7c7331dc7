/** Each host's API client, by host kind: the one place that names them. */
import { giteaHost } from './gitea.ts';
import { githubHost } from './github.ts';
import { gitlabHost } from './gitlab.ts';
import type { HookHost } from './hook-host.ts';
import type { HostFetch } from './host-fetch.ts';
import type { HostKind } from '../provider-kit/index.ts';

export const HOST_CLIENTS: Readonly<Record<HostKind, (options: { apiUrl: string; token: string; send: HostFetch }) => HookHost>> = {
  github: githubHost,
  gitlab: gitlabHost,
  gitea: giteaHost,
};
