/** Gitea's and Forgejo's REST API as fluxgate calls it (hooks, commit statuses): `Authorization: token …` under `/api/v1`. */
import { restClient } from '../../src/provider-kit/index.ts';
import type { HostFetch } from '../../src/provider-kit/index.ts';

/** The API root: `…/api/v1`, added when the configured URL is the site's root. */
function apiRoot(apiUrl: string): string {
  const trimmed = apiUrl.replace(/\/+$/, '');
  return /\/api\/v1$/.test(trimmed) ? trimmed : `${trimmed}/api/v1`;
}

/**
 * @example
 * const api = giteaApi({ apiUrl: 'https://gitea.example.com', token, send });
 * await api.send('POST', '/repos/acme/app/statuses/3f9c…', body);
 */
export function giteaApi(options: { apiUrl: string; token: string; send: HostFetch }) {
  return restClient({ baseUrl: apiRoot(options.apiUrl), headers: { Authorization: `token ${options.token}` }, send: options.send, pageSize: { limit: '50' } });
}
