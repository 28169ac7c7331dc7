/** A Nexus Repository 3 asset webhook for a docker manifest, as Nexus sends it (compact JSON), slim. */
import { sampleImage, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json; charset=UTF-8', 'X-Nexus-Webhook-ID': input.event ?? 'rm:repository:asset', 'X-Nexus-Webhook-Delivery': input.deliveryId }),
  body(input) {
    const image = sampleImage(input, '');
    return {
      timestamp: input.now.toISOString(),
      nodeId: '7FFA7361-6ED33978-36997BD4-47095CC4-331356BE',
      initiator: 'fluxgate-send/127.0.0.1',
      repositoryName: 'docker-hosted',
      action: 'CREATED',
      asset: { id: 'ZG9ja2VyLWhvc3RlZDo2NDhkZWQ0OWUxMmI5M2M', assetId: 'ZG9ja2VyLWhvc3RlZDo2NDhkZWQ0OWUxMmI5M2M', format: 'docker', name: `v2/${image.path}/manifests/${image.tag}` },
    };
  },
};
