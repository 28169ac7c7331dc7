/**
 * How each Flux Receiver type maps onto fluxgate's codec of the same name, and where notification-controller's
 * handling of the type differs from the codec's defaults (checked against its `receiver_handlers.go`). A table,
 * not a switch: each row says what Flux does with the Secret's `token`, the event header and the body.
 *
 * - `token: 'secret'`: Flux authenticates with the token (github/bitbucket HMAC, gitlab and harbor tokens, nexus
 *   HMAC-SHA1, generic-hmac); the codec verifies with it as its `secret`.
 * - `token: 'path'`: Flux checks no credential (generic, dockerhub, quay, acr, cdevents) or a Google token (gcr):
 *   the token only makes the path unguessable, so the provider is unsigned (or keyless) and the path is its secret.
 *   (fluxgate's own acr and cdevents can check a credential; Flux's senders send none, so none is asked for.)
 * - `eventHeader`: Flux compares `spec.events` with this header, case-insensitively. Other types ignore
 *   `spec.events`, as Flux does, and act on every event (a strict Receiver: on their codec's default events).
 */
import type { Catalog } from '../provider-kit/index.ts';
import type { ProviderCodec } from '../provider-kit/index.ts';

export interface FluxType {
  /** The fluxgate codec that reads this type's deliveries. */
  codec: string;
  /** Deliveries whose event is a key here are read by that codec instead (Flux's `bitbucket` also serves Data Center). */
  codecByEvent?: Readonly<Record<string, string>>;
  token: 'secret' | 'path';
  /** The header Flux compares `spec.events` with; absent: Flux does not filter events for this type. */
  eventHeader?: string;
  /** Flux reads no event for the type: every delivery is this event. */
  fixedEvent?: string;
  /** Flux reads no body for the type: a body the codec cannot read is still a delivery about the Receiver's resources. */
  anyBody?: boolean;
  /** Options for the codec from the Secret's other keys; a string is what is missing. */
  options?(data: Readonly<Record<string, string>>): unknown | string;
  /**
   * Where notification-controller reads a delivery more loosely than the codec, taken unless the Receiver is strict:
   * `bodyUnread` Flux never reads the body, so one the codec cannot read is still a delivery; `bodyRead` how far
   * Flux reads it: a body that passes is a delivery even where the codec wants more of it; `signatureFrom`
   * Flux takes the signature from this header too (as the header the codec reads); `unsignedClaims` headers Flux
   * does not compare with the body (the codec refuses a mismatch).
   */
  flux?: { bodyUnread?: true; bodyRead?(body: Uint8Array): boolean; signatureFrom?: { header: string; as: string }; unsignedClaims?: readonly string[] };
  /** What a resourceFilter reads as `req` when Flux hands it something other than the body (gcr: the decoded notification). */
  request?(body: Uint8Array): Record<string, unknown>;
}

/** The Pub/Sub message's notification, as Flux re-encodes it for the filter: action, digest and tag, empty when absent. */
function gcrRequest(body: Uint8Array): Record<string, unknown> {
  const envelope = JSON.parse(new TextDecoder().decode(body)) as { message?: { data?: unknown } };
  const encoded = envelope?.message?.data;
  const data = typeof encoded === 'string' ? (JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return { action: text(data?.action), digest: text(data?.digest), tag: text(data?.tag) };
}

/**
 * What Flux's cdevents Receiver asks of the body (the CDEvents SDK's parse and validation): a JSON object whose
 * `context` names the event's `type` and `id`; the subject's content is the SDK's business, not a refusal.
 */
function isCdevent(body: Uint8Array): boolean {
  try {
    const value = JSON.parse(new TextDecoder().decode(body)) as { context?: { type?: unknown; id?: unknown } } | null;
    return typeof value?.context?.type === 'string' && typeof value.context.id === 'string';
  } catch {
    return false;
  }
}

/** What Flux's image Receivers ask of the body (a JSON decode into their payload struct): JSON, an object or null. */
function isJsonObject(body: Uint8Array): boolean {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body));
    return value === null || (typeof value === 'object' && !Array.isArray(value));
  } catch {
    return false;
  }
}

/** Flux's Receiver types (notification.toolkit.fluxcd.io/v1), generic-oidc aside (see oidc-receiver.ts). */
export const FLUX_TYPES: Readonly<Record<string, FluxType>> = {
  github: { codec: 'github', token: 'secret', eventHeader: 'X-GitHub-Event', flux: { bodyUnread: true } },
  gitlab: { codec: 'gitlab', token: 'secret', eventHeader: 'X-Gitlab-Event', flux: { bodyUnread: true } },
  bitbucket: {
    codec: 'bitbucket',
    codecByEvent: { 'repo:refs_changed': 'bitbucket-server', 'diagnostics:ping': 'bitbucket-server' },
    token: 'secret',
    eventHeader: 'X-Event-Key',
    // Flux checks it with go-github's ValidatePayload: X-Hub-Signature-256 first, else X-Hub-Signature.
    flux: { bodyUnread: true, signatureFrom: { header: 'X-Hub-Signature-256', as: 'X-Hub-Signature' } },
  },
  harbor: { codec: 'harbor', token: 'secret', flux: { bodyUnread: true } },
  dockerhub: { codec: 'dockerhub', token: 'path', flux: { bodyRead: isJsonObject } },
  quay: { codec: 'quay', token: 'path', flux: { bodyRead: isJsonObject } },
  gcr: {
    codec: 'gcr',
    token: 'path',
    options: (data) => (data.email && data.audience ? { audience: data.audience, serviceAccount: data.email } : `the Secret has no ${data.email ? 'audience' : 'email'} key, which a gcr Receiver needs`),
    request: gcrRequest,
  },
  nexus: { codec: 'nexus', token: 'secret', flux: { bodyRead: isJsonObject } },
  acr: { codec: 'acr', token: 'path', flux: { bodyRead: isJsonObject } },
  generic: { codec: 'generic', token: 'path', fixedEvent: 'push', anyBody: true },
  'generic-hmac': { codec: 'generic-hmac', token: 'secret', fixedEvent: 'push', anyBody: true },
  cdevents: { codec: 'cdevents', token: 'path', eventHeader: 'Ce-Type', flux: { bodyRead: isCdevent, unsignedClaims: ['ce-type', 'ce-id'] } },
};

/** Every Flux Receiver type, in the order Flux's documentation lists them. */
export const FLUX_TYPE_NAMES = ['generic', 'generic-hmac', 'generic-oidc', 'github', 'gitlab', 'bitbucket', 'harbor', 'dockerhub', 'quay', 'nexus', 'acr', 'gcr', 'cdevents'] as const;

/** The codecs a type needs, or the first one the catalog lacks (a pluginsDir cannot take a built-in's id, so only in tests). */
export function codecsOf(type: FluxType, catalog: Catalog): { primary: ProviderCodec<unknown>; byEvent: Map<string, ProviderCodec<unknown>> } | { missing: string } {
  const primary = catalog.get(type.codec);
  if (!primary) return { missing: type.codec };
  const byEvent = new Map<string, ProviderCodec<unknown>>();
  for (const [event, id] of Object.entries(type.codecByEvent ?? {})) {
    const codec = catalog.get(id);
    if (!codec) return { missing: id };
    byEvent.set(event, codec);
  }
  return { primary, byEvent };
}
