/**
 * Following's commit statuses on Bitbucket Cloud: `POST /2.0/repositories/{workspace}/{repo}/commit/{sha}/statuses/build`,
 * with the token of the provider's `register` block (a repository, project or workspace access token with the
 * `repository:write` scope; Bitbucket Cloud has no hooks API fluxgate registers on, so the block holds only
 * `token` and `apiUrl`). The client is imported on first use.
 */
import type { CommitStatuses } from '../../src/provider-kit/index.ts';

export const commitStatus: CommitStatuses = {
  spec: { title: 'Bitbucket Cloud', defaultApiUrl: 'https://api.bitbucket.org/2.0', exampleApiUrl: 'https://api.bitbucket.org/2.0', maxDescription: 255 },
  client: async (options) => (await import('./status-client.ts')).bitbucketStatuses(options),
};
