/** A Quay `repo_push` notification as Quay sends it, slim. */
import { sampleImage, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: () => ({ 'Content-Type': 'application/json' }),
  body(input) {
    const image = sampleImage(input, 'quay.io');
    const [namespace = 'org', name = image.path] = image.path.split('/');
    return { name, repository: image.path, namespace, docker_url: `${image.registry}/${image.path}`, homepage: `https://${image.registry}/repository/${image.path}`, updated_tags: [image.tag] };
  },
};
