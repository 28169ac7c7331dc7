/** A Bitbucket Cloud `repo:push` as Bitbucket sends it, slim: one change. */
import { web, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'User-Agent': 'Bitbucket-Webhooks/2.0', 'X-Event-Key': input.event ?? 'repo:push', 'X-Request-UUID': input.deliveryId, 'X-Attempt-Number': '1' }),
  body(input) {
    const name = input.ref.tag ?? input.ref.branch!;
    return {
      repository: { type: 'repository', full_name: input.repository.slug, links: { html: { href: web('bitbucket.org', input) } } },
      push: { changes: [{ new: { type: input.ref.tag !== undefined ? 'tag' : 'branch', name, target: { type: 'commit', hash: input.commit } }, old: null, created: true, closed: false }] },
    };
  },
};
