/** An Azure Container Registry `push` webhook as ACR sends it, slim. */
import { sampleImage, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: () => ({ 'Content-Type': 'application/json' }),
  body(input) {
    const image = sampleImage(input, 'myregistry.azurecr.io');
    return {
      id: input.deliveryId,
      timestamp: input.now.toISOString(),
      action: input.event ?? 'push',
      target: { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', size: 524, digest: image.digest, length: 524, repository: image.path, tag: image.tag },
      request: { id: input.deliveryId, host: image.registry, method: 'PUT', useragent: 'fluxgate-send' },
    };
  },
};
