/** The push body Gitea, Forgejo and Gogs send (GitHub's shape): for the `gitea` and `gogs` samples. */
import { web, type SampleInput } from '../src/provider-kit/index.ts';

export function giteaPush(input: SampleInput, defaultHost: string): unknown {
  const url = web(defaultHost, input);
  const host = new URL(url).host;
  return {
    ref: input.ref.ref,
    before: 'e1c5d07d6c4ab3a2bb54b09cc85b5eb0c0c1f1a2',
    after: input.commit,
    compare_url: `${url}/compare/e1c5d07d6c4a...${input.commit.slice(0, 12)}`,
    // Unknown changes: the sample passes every path filter, as a push whose files are not listed should.
    commits: [],
    total_commits: 1,
    repository: { full_name: input.repository.slug, html_url: url, clone_url: `${url}.git`, ssh_url: `git@${host}:${input.repository.slug}.git`, default_branch: 'main' },
    pusher: { login: 'fluxgate-send' },
  };
}
