/** An Azure DevOps service hook `git.push` as it sends it, slim: one ref update. */
import type { Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: () => ({ 'Content-Type': 'application/json; charset=utf-8' }),
  body(input) {
    const [organization = 'org', project = 'project', ...rest] = input.repository.slug.split('/');
    const repository = rest.join('/') || project;
    return {
      id: input.deliveryId,
      eventType: input.event ?? 'git.push',
      publisherId: 'tfs',
      resource: {
        repository: { name: repository, remoteUrl: `https://dev.azure.com/${organization}/${project}/_git/${repository}` },
        refUpdates: [{ name: input.ref.ref, oldObjectId: 'e1c5d07d6c4ab3a2bb54b09cc85b5eb0c0c1f1a2', newObjectId: input.commit }],
        date: input.now.toISOString(),
      },
      createdDate: input.now.toISOString(),
    };
  },
};
