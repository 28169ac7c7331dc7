/** A GitLab `Push Hook` (or `Tag Push Hook`) as GitLab sends it, slim: the fields the gitlab provider reads. */
import { web, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: (input) => ({
    'Content-Type': 'application/json',
    'User-Agent': 'GitLab/fluxgate-send',
    'X-Gitlab-Event': input.event ?? (input.ref.tag !== undefined ? 'Tag Push Hook' : 'Push Hook'),
    'Idempotency-Key': input.deliveryId,
  }),
  body(input) {
    const url = web('gitlab.com', input);
    const host = new URL(url).host;
    const project = { path_with_namespace: input.repository.slug, web_url: url, git_http_url: `${url}.git`, git_ssh_url: `git@${host}:${input.repository.slug}.git`, default_branch: 'main' };
    return {
      object_kind: input.ref.tag !== undefined ? 'tag_push' : 'push',
      event_name: input.ref.tag !== undefined ? 'tag_push' : 'push',
      before: '0000000000000000000000000000000000000000',
      after: input.commit,
      ref: input.ref.ref,
      checkout_sha: input.commit,
      project,
      repository: { homepage: url, git_http_url: project.git_http_url, git_ssh_url: project.git_ssh_url },
      // An empty list with a count of one: the changed paths are unknown, so every path filter passes.
      commits: [],
      total_commits_count: 1,
    };
  },
};
