/** A Bitbucket Data Center `repo:refs_changed` as it sends it, slim: one change. */
import type { Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json; charset=utf-8', 'X-Event-Key': input.event ?? 'repo:refs_changed', 'X-Request-Id': input.deliveryId }),
  body(input) {
    const host = input.repository.host ?? 'bitbucket.example.com';
    const [project = 'PROJ', ...rest] = input.repository.slug.split('/');
    const slug = rest.join('/') || project;
    const displayId = input.ref.tag ?? input.ref.branch!;
    return {
      eventKey: 'repo:refs_changed',
      date: input.now.toISOString(),
      repository: {
        slug,
        project: { key: project.toUpperCase() },
        links: {
          clone: [{ href: `https://${host}/scm/${project.toLowerCase()}/${slug}.git`, name: 'http' }, { href: `ssh://git@${host}:7999/${project.toLowerCase()}/${slug}.git`, name: 'ssh' }],
          self: [{ href: `https://${host}/projects/${project.toUpperCase()}/repos/${slug}/browse` }],
        },
      },
      changes: [{ ref: { id: input.ref.ref, displayId, type: input.ref.tag !== undefined ? 'TAG' : 'BRANCH' }, refId: input.ref.ref, fromHash: 'e1c5d07d6c4ab3a2bb54b09cc85b5eb0c0c1f1a2', toHash: input.commit, type: 'UPDATE' }],
    };
  },
};
