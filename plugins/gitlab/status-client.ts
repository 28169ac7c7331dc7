/**
 * GitLab's commit statuses through `@gitbeaker/rest` (`Commits.editStatus`: state, name, description, target_url),
 * its requests on fluxgate's transport (hook-client.ts's requester). GitLab states: `failure` and `error` are
 * `failed`, a commit another one replaced is `canceled`. GitLab refuses a state a status already has (400 "Cannot
 * transition status"), which the writer never sends twice.
 */
import { Commits } from '@gitbeaker/rest';
import { commonAdvice, HostError } from '../../src/provider-kit/index.ts';
import type { CommitState, CommitStatusClient, HostFetch } from '../../src/provider-kit/index.ts';
import { hostRoot, requesterOn } from './hook-client.ts';

const STATES: Record<CommitState, 'pending' | 'success' | 'failed' | 'canceled'> = { pending: 'pending', success: 'success', failure: 'failed', error: 'failed', superseded: 'canceled' };

/**
 * @example
 * const statuses = gitlabStatuses({ apiUrl: 'https://gitlab.example.com', token, send });
 * await statuses.set({ repository: 'group/app', sha }, { state: 'success', context: 'fluxgate/prod/Kustomization/flux-system/apps', description: 'applied' });
 */
export function gitlabStatuses(options: { apiUrl: string; token: string; send: HostFetch }): CommitStatusClient {
  const commits = new Commits({ host: hostRoot(options.apiUrl), token: options.token, requesterFn: requesterOn(options.send), queryTimeout: null });
  return {
    async set(target, status) {
      const project = /^[0-9]+$/.test(target.repository) ? Number(target.repository) : target.repository;
      await commits.editStatus(project, target.sha, STATES[status.state], { name: status.context, description: status.description, ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}) });
    },
    explain(error, target) {
      const common = commonAdvice(error, 'GitLab');
      if (common !== undefined || !(error instanceof HostError)) return common!;
      const said = error.hostMessage ? ` (${error.hostMessage})` : '';
      return `GitLab answered ${error.status}${said} for the statuses of ${target.repository}: the token needs the api scope, from a user with the Developer role (or higher) on the project${error.status === 404 ? ', or the project is not visible to it' : ''}`;
    },
  };
}
