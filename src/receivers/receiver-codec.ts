/**
 * The codec a Receiver's provider uses: its type's fluxgate codec, adjusted where Flux reads the delivery
 * differently (flux-types.ts) — events compared case-insensitively, a body Flux does not read accepted as it is,
 * an event the Receiver lists acted on even when the codec finds it not about code — and, for a Receiver with a
 * resourceFilter, the request body its filter reads (`req`), kept for the delivery being parsed.
 */
import { PayloadError, type DeliveryInfo, type Event, type ProviderCodec, type VerifiedInfo, type WebhookRequest } from '../provider-kit/index.ts';
import type { FluxType } from './flux-types.ts';

/** What a resourceFilter reads besides the resource, for one delivery. */
export interface DeliveryContext {
  req: Record<string, unknown>;
  claims?: Readonly<Record<string, unknown>>;
}

export interface ReceiverCodec {
  codec: ProviderCodec<unknown>;
  /** The events the provider acts on. */
  events: ReadonlySet<string>;
  /** Every event is acted on (Flux: a Receiver without spec.events filters none), `events` being the known ones. */
  anyEvent: boolean;
  /** The filter input of the delivery an event was parsed from (only when the Receiver has filters). */
  contextOf(event: Event): DeliveryContext | undefined;
}

/** Whether the request says its body is JSON, as Flux decides before handing the body to a filter. */
function isJson(headers: Headers): boolean {
  return (headers.get('content-type') ?? '').split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === 'application/json');
}

/**
 * The body as Flux hands it to a filter: a JSON object (or what `decode` makes of the body), or `{}` when the
 * request does not say it is JSON. Anything else is answered 400, as Flux does.
 */
export function requestOf(request: WebhookRequest, decode?: (body: Uint8Array) => Record<string, unknown>): Record<string, unknown> {
  if (!isJson(request.headers)) return {};
  let value: unknown;
  try {
    value = decode ? decode(request.body) : JSON.parse(new TextDecoder().decode(request.body));
  } catch {
    throw new PayloadError('the body is not JSON, and the Receiver’s resourceFilter reads it');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PayloadError('the body is not a JSON object, and the Receiver’s resourceFilter reads it');
  return value as Record<string, unknown>;
}

/**
 * @example
 * const { codec, events } = receiverCodec(FLUX_TYPES.github, { primary: github, byEvent: new Map() }, ['PUSH', 'ping'], { readsRequest: false });
 * codec.describe(new Headers({ 'X-GitHub-Event': 'Push' })).event; // 'push'
 * events; // Set { 'push', 'ping' }
 */
export function receiverCodec(
  type: FluxType,
  codecs: { primary: ProviderCodec<unknown>; byEvent: ReadonlyMap<string, ProviderCodec<unknown>> },
  listed: readonly string[],
  options: { readsRequest: boolean; strict?: boolean },
): ReceiverCodec {
  const { primary, byEvent } = codecs;
  // Unless strict, the delivery is read as loosely as notification-controller reads it (flux-types.ts).
  const flux = options.strict ? {} : (type.flux ?? {});
  const anyBody = type.anyBody === true || flux.bodyUnread === true;
  const all = [primary, ...byEvent.values()];
  const defaults = [...new Set(all.flatMap((codec) => codec.defaultEvents))];
  // Flux compares the header with the listed events case-insensitively: each is spelled once, as the codec
  // spells it when the codec knows it (`push`, `Push Hook`, a CDEvent type without its version). With none
  // listed, the codec's defaults are compared the same way.
  const spelled = new Map<string, string>();
  if (type.eventHeader !== undefined) {
    for (const event of listed.length > 0 ? listed : defaults) {
      const described = primary.describe(new Headers({ [type.eventHeader]: event })).event ?? event;
      const known = defaults.find((name) => name.toLowerCase() === described.toLowerCase()) ?? described;
      if (!spelled.has(known.toLowerCase())) spelled.set(known.toLowerCase(), known);
    }
  }
  const listsEvents = type.eventHeader !== undefined && listed.length > 0;
  // Flux filters no event when spec.events is empty, nor for a type it reads no event of: neither does fluxgate,
  // unless strict (then the type's default events).
  const anyEvent = !options.strict && (type.eventHeader === undefined || listed.length === 0);
  const events = new Set(type.fixedEvent !== undefined ? [type.fixedEvent] : spelled.size > 0 ? spelled.values() : defaults);
  const contexts = new WeakMap<Event, DeliveryContext>();

  const codecFor = (event: string | undefined) => (event !== undefined ? byEvent.get(event) : undefined) ?? primary;

  function describe(headers: Headers): DeliveryInfo {
    const raw = primary.describe(headers);
    if (type.fixedEvent !== undefined) return { ...raw, event: type.fixedEvent };
    const event = raw.event === undefined ? undefined : (spelled.get(raw.event.toLowerCase()) ?? raw.event);
    // The codec that reads this event says what its headers mean (Data Center's delivery id and ping).
    const info = (event !== undefined ? byEvent.get(event)?.describe(headers) : undefined) ?? raw;
    return event === undefined ? info : { ...info, event };
  }

  function parse(request: WebhookRequest, info: VerifiedInfo, key: unknown) {
    const bare = (): Event => ({ event: info.event ?? type.fixedEvent ?? defaults[0] ?? 'push', repositories: [] });
    let parsed;
    try {
      parsed = codecFor(info.event).parse(withoutClaims(request, flux.unsignedClaims), info, key);
    } catch (error) {
      const asFlux = anyBody || flux.bodyRead?.(request.body) === true;
      if (!asFlux || !(error instanceof Error && error.name === 'PayloadError')) throw error;
      parsed = { events: [bare()] };
    }
    // An event the Receiver lists by name is acted on, as Flux does, even when the codec finds nothing in it; so
    // is any event when it lists none (unless strict).
    if ('ignored' in parsed && info.event !== undefined && (anyEvent || (listsEvents && events.has(info.event)))) parsed = { events: [bare()] };
    if (options.readsRequest && !('ignored' in parsed)) {
      const context: DeliveryContext = { req: requestOf(request, type.request), ...(info.claims ? { claims: info.claims } : {}) };
      for (const event of parsed.events) contexts.set(event, context);
    }
    return parsed;
  }

  function verify(request: WebhookRequest, key: unknown, now: Date) {
    const verdict = primary.verify(request, key, now);
    const from = flux.signatureFrom;
    const signed = from && request.headers.get(from.header);
    if (!signed) return verdict;
    // Flux reads the signature from `from.header` first: so does the retry, as the header the codec reads.
    const headers = new Headers(request.headers);
    headers.set(from.as, signed);
    const again = () => primary.verify({ body: request.body, headers }, key, now);
    if (verdict instanceof Promise) return verdict.then((first) => (first.ok ? first : again()));
    return verdict.ok ? verdict : again();
  }

  return {
    codec: { ...primary, defaultEvents: defaults, describe, verify, parse },
    events,
    anyEvent,
    contextOf: (event) => contexts.get(event),
  };
}

/** The request without headers Flux does not check against the body (the codec compares them when present). */
function withoutClaims(request: WebhookRequest, names: readonly string[] | undefined): WebhookRequest {
  if (!names || !names.some((name) => request.headers.has(name))) return request;
  const headers = new Headers(request.headers);
  for (const name of names) headers.delete(name);
  return { body: request.body, headers };
}
