/**
 * A provider codec driven the way the pipeline drives it, one call per step, for table tests of one provider:
 * verify with the key `prepare` makes, describe from the headers, parse to the single event a delivery reports
 * (or its `ignored` answer).
 */
import type { DeliveryInfo, Event, VerifyResult, WebhookRequest } from '../../src/provider-kit/contract.ts';
import type { ProviderFactory } from '../../src/provider-kit/kit.ts';
import type { ProviderSecrets } from '../../src/config/secrets.ts';
import { codecOf, keyOf } from './provider-fixtures.ts';

export interface DrivenCodec {
  /** For codecs whose verification is synchronous (HMAC, tokens); throws for one that returns a promise. */
  verify(request: WebhookRequest, secrets: ProviderSecrets, now: Date, options?: unknown): VerifyResult;
  /** The verdict of any codec, synchronous or not (GitHub's SHA-256 check is a promise). */
  verifyAsync(request: WebhookRequest, secrets: ProviderSecrets, now: Date, options?: unknown): Promise<VerifyResult>;
  describe(request: WebhookRequest): DeliveryInfo;
  /** The one event of the delivery (a test of a multi-event delivery uses `events`). */
  parse(request: WebhookRequest, info?: DeliveryInfo): Event & { ignored?: string };
  events(request: WebhookRequest, info?: DeliveryInfo): Event[];
  sign(body: Uint8Array, secrets: ProviderSecrets, options?: { now?: Date; deliveryId?: string; options?: unknown }): Record<string, string>;
}

export function drive(factory: ProviderFactory): DrivenCodec {
  const codec = codecOf<unknown>(factory);
  const parsed = (request: WebhookRequest, info?: DeliveryInfo) => codec.parse(request, info ?? codec.describe(request.headers), keyOf(codec, {}));
  return {
    verify(request, secrets, now, options) {
      const verdict = codec.verify(request, keyOf(codec, secrets, options), now);
      if (verdict instanceof Promise) throw new Error(`${codec.id} verifies asynchronously`);
      return verdict;
    },
    verifyAsync: async (request, secrets, now, options) => codec.verify(request, keyOf(codec, secrets, options), now),
    describe: (request) => codec.describe(request.headers),
    parse(request, info) {
      const result = parsed(request, info);
      if ('ignored' in result) return { event: '', repositories: [], ignored: result.ignored };
      if (result.events.length !== 1) throw new Error(`expected one event, got ${result.events.length}`);
      return result.events[0]!;
    },
    events(request, info) {
      const result = parsed(request, info);
      if ('ignored' in result) throw new Error(`ignored: ${result.ignored}`);
      return result.events;
    },
    sign: (body, secrets, options = {}) => codec.sign(body, secrets, { now: options.now ?? new Date(0), deliveryId: options.deliveryId ?? 'delivery', options: options.options }),
  };
}
