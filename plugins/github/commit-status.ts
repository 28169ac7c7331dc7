/**
 * Following's commit statuses on GitHub (github.com or Enterprise Server): `POST /repos/{owner}/{repo}/statuses/{sha}`,
 * with the `register` token. The client (status-client.ts) is imported only when a status is first sent.
 */
import type { CommitStatuses } from '../../src/provider-kit/index.ts';

export const commitStatus: CommitStatuses = {
  // GitHub refuses a description over 140 characters (422).
  spec: { title: 'GitHub', defaultApiUrl: 'https://api.github.com', exampleApiUrl: 'https://github.example.com/api/v3', maxDescription: 140 },
  client: async (options) => (await import('./status-client.ts')).githubStatuses(options),
};
