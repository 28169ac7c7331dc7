/** A GitHub `push` (or the named event) as GitHub sends it, slim: the fields the github provider reads. */
import { web, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'User-Agent': 'GitHub-Hookshot/fluxgate-send', 'X-GitHub-Event': input.event ?? 'push', 'X-GitHub-Delivery': input.deliveryId }),
  body(input) {
    const url = web('github.com', input);
    const commit = { id: input.commit, message: 'fluxgate send', timestamp: input.now.toISOString(), url: `${url}/commit/${input.commit}`, added: [], removed: [], modified: [] };
    return {
      ref: input.ref.ref,
      before: '0000000000000000000000000000000000000000',
      after: input.commit,
      repository: { full_name: input.repository.slug, html_url: url, clone_url: `${url}.git`, ssh_url: `git@${new URL(url).host}:${input.repository.slug}.git`, default_branch: 'main' },
      pusher: { name: 'fluxgate-send' },
      created: false,
      deleted: false,
      forced: false,
      // Paths unknown: a sample passes every path filter, as a push of unknown changes should.
      commits: [],
      head_commit: null,
    };
  },
};
