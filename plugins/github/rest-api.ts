/** GitHub's REST API as fluxgate calls it (hooks, commit statuses): its token, media type and API version. */
import { restClient } from '../../src/provider-kit/index.ts';
import type { HostFetch } from '../../src/provider-kit/index.ts';

/**
 * @example
 * const api = githubApi({ apiUrl: 'https://api.github.com', token, send });
 * await api.send('POST', '/repos/acme/app/statuses/3f9c…', body);
 */
export function githubApi(options: { apiUrl: string; token: string; send: HostFetch }) {
  return restClient({
    baseUrl: options.apiUrl,
    headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', 'User-Agent': 'fluxgate' },
    send: options.send,
    pageSize: { per_page: '100' },
  });
}
