/**
 * Following's commit statuses on GitLab (gitlab.com or self-managed): `POST /projects/:id/statuses/:sha` through
 * `@gitbeaker/rest`, with the `register` token. The client (status-client.ts, on gitbeaker) is imported on first use.
 */
import type { CommitStatuses } from '../../src/provider-kit/index.ts';

export const commitStatus: CommitStatuses = {
  spec: { title: 'GitLab', defaultApiUrl: 'https://gitlab.com', exampleApiUrl: 'https://gitlab.example.com', maxDescription: 255 },
  client: async (options) => (await import('./status-client.ts')).gitlabStatuses(options),
};
