/**
 * Following's commit statuses on Gitea and Forgejo: `POST /repos/{owner}/{repo}/statuses/{sha}`, with the `register`
 * token and `register.apiUrl` (there is no public instance to default to). The client is imported on first use.
 */
import type { CommitStatuses } from '../../src/provider-kit/index.ts';

export const commitStatus: CommitStatuses = {
  spec: { title: 'Gitea', exampleApiUrl: 'https://gitea.example.com/api/v1', maxDescription: 255 },
  client: async (options) => (await import('./status-client.ts')).giteaStatuses(options),
};
