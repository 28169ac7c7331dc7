/**
 * Gitea's and Forgejo's commit statuses (`POST /repos/{owner}/{repo}/statuses/{sha}`: state, context, description,
 * target_url). A commit another one replaced is `warning`.
 */
import { commonAdvice, HostError } from '../../src/provider-kit/index.ts';
import type { CommitState, CommitStatusClient, HostFetch } from '../../src/provider-kit/index.ts';
import { giteaApi } from './rest-api.ts';

const STATES: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failure', error: 'error', superseded: 'warning' };

/**
 * @example
 * const statuses = giteaStatuses({ apiUrl: 'https://gitea.example.com', token, send });
 * await statuses.set({ repository: 'acme/app', sha }, { state: 'pending', context: 'fluxgate/default/GitRepository/flux-system/app', description: 'reconcile requested' });
 */
export function giteaStatuses(options: { apiUrl: string; token: string; send: HostFetch }): CommitStatusClient {
  const api = giteaApi(options);
  return {
    async set(target, status) {
      const [owner, repo] = target.repository.split('/');
      const body = { state: STATES[status.state], context: status.context, description: status.description, ...(status.targetUrl ? { target_url: status.targetUrl } : {}) };
      await api.send('POST', `/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(repo ?? '')}/statuses/${encodeURIComponent(target.sha)}`, body);
    },
    explain(error, target) {
      const common = commonAdvice(error, 'Gitea');
      if (common !== undefined || !(error instanceof HostError)) return common!;
      const said = error.hostMessage ? ` (${error.hostMessage})` : '';
      return `Gitea answered ${error.status}${said} for the statuses of ${target.repository}: the token needs the write:repository scope, from a user with write access to ${target.repository}`;
    },
  };
}
