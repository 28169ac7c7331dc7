/** A Docker Hub repository webhook as Docker Hub sends it, slim. */
import type { Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: () => ({ 'Content-Type': 'application/json' }),
  body(input) {
    const name = input.image.name.replace(/^(docker\.io|index\.docker\.io)\//, '');
    const [namespace = 'library', repository = name] = name.split('/');
    return {
      callback_url: `https://registry.hub.docker.com/u/${name}/hook/fluxgate-send/`,
      push_data: { pushed_at: Math.floor(input.now.getTime() / 1000), pusher: 'fluxgate-send', tag: input.image.tag },
      repository: { name: repository, namespace, repo_name: name, repo_url: `https://hub.docker.com/r/${name}`, status: 'Active' },
    };
  },
};
