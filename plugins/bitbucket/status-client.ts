/**
 * Bitbucket Cloud's build statuses (`POST …/commit/{sha}/statuses/build`: key, state, name, url, description). A key
 * is at most 40 characters, so it is a digest of the context, which goes whole into `name`; `url` is required, so
 * without `server.publicUrl` it is the commit's own page. States: `INPROGRESS`, `SUCCESSFUL`, `FAILED`, and a
 * commit another one replaced is `STOPPED`.
 */
import { createHash } from 'node:crypto';
import { commonAdvice, HostError, restClient } from '../../src/provider-kit/index.ts';
import type { CommitState, CommitStatusClient, HostFetch } from '../../src/provider-kit/index.ts';

const STATES: Record<CommitState, string> = { pending: 'INPROGRESS', success: 'SUCCESSFUL', failure: 'FAILED', error: 'FAILED', superseded: 'STOPPED' };

/** The key of a context: stable, at most 40 characters. */
export function statusKey(context: string): string {
  return `fluxgate-${createHash('sha256').update(context).digest('hex').slice(0, 24)}`;
}

/**
 * @example
 * const statuses = bitbucketStatuses({ apiUrl: 'https://api.bitbucket.org/2.0', token, send });
 * await statuses.set({ repository: 'workspace/app', sha }, { state: 'success', context: 'fluxgate/prod/Kustomization/flux-system/apps', description: 'applied' });
 */
export function bitbucketStatuses(options: { apiUrl: string; token: string; send: HostFetch }): CommitStatusClient {
  const api = restClient({ baseUrl: options.apiUrl, headers: { Authorization: `Bearer ${options.token}` }, send: options.send, pageSize: { pagelen: '100' } });
  return {
    async set(target, status) {
      const [workspace, repo] = target.repository.split('/');
      const path = `/repositories/${encodeURIComponent(workspace!)}/${encodeURIComponent(repo ?? '')}`;
      const url = status.targetUrl ?? `https://bitbucket.org/${encodeURIComponent(workspace!)}/${encodeURIComponent(repo ?? '')}/commits/${encodeURIComponent(target.sha)}`;
      await api.send('POST', `${path}/commit/${encodeURIComponent(target.sha)}/statuses/build`, { key: statusKey(status.context), state: STATES[status.state], name: status.context, description: status.description, url });
    },
    explain(error, target) {
      const common = commonAdvice(error, 'Bitbucket Cloud');
      if (common !== undefined || !(error instanceof HostError)) return common!;
      const said = error.hostMessage ? ` (${error.hostMessage})` : '';
      return `Bitbucket Cloud answered ${error.status}${said} for the statuses of ${target.repository}: the token needs the repository:write scope (a repository, project or workspace access token)${error.status === 404 ? `, and access to ${target.repository}` : ''}`;
    },
  };
}
