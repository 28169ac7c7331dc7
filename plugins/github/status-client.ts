/**
 * GitHub's commit statuses (`POST /repos/{owner}/{repo}/statuses/{sha}`: state, context, description, target_url).
 * GitHub has no state for a commit another one replaced: `superseded` is `error`, its description says so.
 */
import { commonAdvice, HostError } from '../../src/provider-kit/index.ts';
import type { CommitState, CommitStatusClient, HostFetch } from '../../src/provider-kit/index.ts';
import { githubApi } from './rest-api.ts';

const STATES: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failure', error: 'error', superseded: 'error' };

/**
 * @example
 * const statuses = githubStatuses({ apiUrl: 'https://api.github.com', token, send });
 * await statuses.set({ repository: 'acme/app', sha }, { state: 'success', context: 'fluxgate/prod/Kustomization/flux-system/apps', description: 'applied' });
 */
export function githubStatuses(options: { apiUrl: string; token: string; send: HostFetch }): CommitStatusClient {
  const api = githubApi(options);
  return {
    async set(target, status) {
      const [owner, repo] = target.repository.split('/');
      const body = { state: STATES[status.state], context: status.context, description: status.description, ...(status.targetUrl ? { target_url: status.targetUrl } : {}) };
      await api.send('POST', `/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(repo ?? '')}/statuses/${encodeURIComponent(target.sha)}`, body);
    },
    explain(error, target) {
      const common = commonAdvice(error, 'GitHub');
      if (common !== undefined || !(error instanceof HostError)) return common!;
      const said = error.hostMessage ? ` (${error.hostMessage})` : '';
      return `GitHub answered ${error.status}${said} for the statuses of ${target.repository}: the token needs the repo:status scope (classic token) or the repository permission "Commit statuses: read and write" (fine-grained token)${error.status === 404 ? `, and access to ${target.repository}` : ''}`;
    },
  };
}
