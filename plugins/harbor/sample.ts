/** A Harbor `PUSH_ARTIFACT` webhook (Default format) as Harbor sends it, slim. */
import { sampleImage, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: () => ({ 'Content-Type': 'application/json' }),
  body(input) {
    const image = sampleImage(input, 'harbor.example.com');
    const [namespace = 'library', ...name] = image.path.split('/');
    return {
      type: input.event ?? 'PUSH_ARTIFACT',
      occur_at: Math.floor(input.now.getTime() / 1000),
      operator: 'fluxgate-send',
      event_data: {
        resources: [{ digest: image.digest, tag: image.tag, resource_url: `${image.registry}/${image.path}:${image.tag}` }],
        repository: { date_created: Math.floor(input.now.getTime() / 1000), name: name.join('/') || namespace, namespace, repo_full_name: image.path, repo_type: 'private' },
      },
    };
  },
};
