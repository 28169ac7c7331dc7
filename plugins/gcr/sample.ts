/** An Artifact Registry notification through a Pub/Sub push subscription, as Pub/Sub sends it, slim. */
import { sampleImage, type Sample } from '../../src/provider-kit/index.ts';

export const sample: Sample = {
  headers: () => ({ 'Content-Type': 'application/json' }),
  body(input) {
    const image = sampleImage(input, 'us-east1-docker.pkg.dev');
    const name = `${image.registry}/${image.path}`;
    const data = { action: input.event ?? 'INSERT', digest: `${name}@${image.digest}`, tag: `${name}:${image.tag}` };
    return {
      message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: input.deliveryId, message_id: input.deliveryId, publishTime: input.now.toISOString() },
      subscription: 'projects/my-project/subscriptions/fluxgate',
    };
  },
};
