/**
 * The provider contract: what the webhook pipeline needs from one Git host's or registry's wire format. A
 * provider is a codec — it authenticates a delivery, says what it is about, and reads it into events — and knows
 * nothing of Kubernetes, targets or HTTP frameworks.
 *
 * A provider is a file whose default export is a factory `(kit) => ProviderCodec`. Built-in providers are the
 * `codec.ts` of their folder, `plugins/<type>/`; runtime ones are loaded from `pluginsDir` the same way (at start-up and on SIGHUP, first in a worker
 * under a time limit), run with the gateway's rights, and have `verify` checked with their own `sign`
 * (docs/writing-a-provider.md). Both may only `import type` from fluxgate
 * (a compiled binary cannot resolve imports of files outside it): everything they need at run time is in the
 * kit (`src/provider-kit/index.ts`).
 *
 * @example
 * // plugins/acme/codec.ts — a host that signs the body with `X-Acme-Signature: sha256=<hex>`
 * import type { ProviderFactory } from '../../src/provider-kit/index.ts';
 * const signature = { header: 'X-Acme-Signature', algorithms: ['sha256'], prefixed: true } as const;
 * const acme: ProviderFactory = (kit) => ({
 *   id: 'acme',
 *   defaultEvents: ['push'],
 *   secretFields: ['secret'],
 *   describe: (headers) => ({ event: headers.get('x-acme-event') ?? '', deliveryId: headers.get('x-acme-delivery') ?? undefined }),
 *   verify: (request, secrets) => kit.hmacHeader.verify(request, signature, secrets.secret!),
 *   parse(request, info) {
 *     const payload = kit.read(kit.json(request.body));
 *     return { events: [{ event: info.event ?? 'push', repositories: payload.strings('repository'), ...kit.ref(payload.string('ref')) }] };
 *   },
 *   sign: (body, secrets) => ({ 'X-Acme-Signature': kit.hmacHeader.sign(signature, secrets.secret!, body) }),
 * });
 * export default acme;
 */
import type { TSchema } from '@sinclair/typebox';
import type { ProviderSecrets } from '../config/index.ts';

/** A webhook as it came off the wire: the exact bytes, so signatures are checked over what the sender signed. */
export interface WebhookRequest {
  body: Uint8Array;
  headers: Headers;
}

/** The secret fields a provider may read (resolved by the config loader), part of the contract a plugin implements. */
export type { ProviderSecrets };
export type SecretField = keyof ProviderSecrets;

/** What the headers say about a delivery before anything is verified or parsed (shown even for refused ones). */
export interface DeliveryInfo {
  /** The event as the provider spells it (`push`, `Push Hook`, `repo:push`); undefined when only the body names it. */
  event?: string;
  /** The provider's delivery id, stable across the provider's own retries where it has one. */
  deliveryId?: string;
  /** A connectivity check (GitHub `ping`): answered 200, never reconciles anything. */
  ping?: boolean;
}

/**
 * The verdict on authentication. A success may carry what the credential itself proves: the delivery id a
 * signature covers (which then wins over the header's for dedupe), or the claims of a verified token. A failure
 * that is not the sender's fault (an issuer's keys could not be fetched) is `retryable`: answered 503 with
 * Retry-After instead of 401, so the sender tries again.
 */
export type VerifyResult =
  | { ok: true; deliveryId?: string; claims?: Readonly<Record<string, unknown>> }
  | { ok: false; reason: string; retryable?: boolean };

/** An image pushed to a registry. */
export interface ImageEvent {
  /** The image as the registry names it, e.g. `ghcr.io/org/app`, `library/nginx`, `registry.example.com:5000/team/api`. */
  name: string;
  tag?: string;
  /** `sha256:…` */
  digest?: string;
}

/**
 * One thing a delivery reports: a ref of a repository (Git hosts) or an image (registries). A delivery about
 * several refs (a Bitbucket push of three branches) or several tags (Quay) is several events.
 */
export interface Event {
  /** The event name (the header's, or the body's when the header has none). */
  event: string;
  /** Every URL or slug the payload gives for the repository (clone URLs, web URL, `org/repo`); empty for images. */
  repositories: string[];
  /** Full ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`, when the event concerns one. */
  ref?: string;
  branch?: string;
  tag?: string;
  /** Commit (or, for images, digest) the event points at. */
  commit?: string;
  /** The repository's default branch, when the payload says it (discovery: a GitRepository without a ref, Argo CD `HEAD`). */
  defaultBranch?: string;
  /** Paths changed by the push; `undefined` when unknown (then path filters pass). */
  changedPaths?: string[];
  /** True when the ref (or tag) was deleted. */
  deleted?: boolean;
  /** Set for registry events. */
  image?: ImageEvent;
  /**
   * When the push happened (ms since the epoch), where the payload carries a true push time — not a commit's
   * author or committer date, which can be days older than the push. Used to time push → applied.
   */
  pushedAt?: number;
}

/** What a delivery reports. */
export interface Parsed {
  events: Event[];
  /** The delivery id, when only the body carries it (Azure DevOps, ACR, Pub/Sub); used for dedupe like the header's. */
  deliveryId?: string;
}

/**
 * Returned instead when a well-formed, authenticated payload is not about code or images (a GitLab system hook
 * for `user_create`): answered 200 with this reason instead of 400, so the host does not count a failure.
 */
export interface Ignored {
  ignored: string;
}

export interface SignOptions {
  /** Time for timestamped signatures (Standard Webhooks). */
  now: Date;
  deliveryId: string;
  /** The provider's `options` (validated, defaults applied), e.g. the header or user name it authenticates with. */
  options: unknown;
}

/** One host's wire format. `Key` is what `prepare` makes of the configured secrets and options. */
export interface ProviderCodec<Key = ProviderSecrets> {
  /** The `type` users write in `providers[]`; equal to Flux's Receiver type where Flux has it. */
  id: string;
  /** Events accepted when the provider config lists none. */
  defaultEvents: readonly string[];
  /**
   * Secret fields this type reads. A provider of such a type needs one of them configured, or `allowUnsigned: true`
   * — then its deliveries are not verified at all (`verify` is never called) and the route is the only secret.
   * Empty: the type checks no secret; it is unsigned (needs `allowUnsigned: true`) unless `keyless`.
   */
  secretFields: readonly SecretField[];
  /** True for types that verify with public keys their `options` name (OIDC issuers): no secret, never unsigned. */
  keyless?: boolean;
  /** Schema of `providers[].options` for this type (built with `kit.Type`); absent: the type takes none. */
  options?: TSchema;
  /**
   * Turns the configured secrets and options into what `verify` (and `parse`) need, once per configured provider
   * (a decoded signing key, an OIDC verifier with its key cache). For a value it cannot use it throws
   * `kit.problem(field, message)` — never quoting a secret; the config loader reports it at that field. Absent:
   * `verify` receives the secrets as they are.
   */
  prepare?(secrets: ProviderSecrets, options: unknown): Key;
  /** Reads the event, delivery id and ping-ness from the headers alone. Cheap; runs before verification. */
  describe(headers: Headers): DeliveryInfo;
  /**
   * Authenticates the exact bytes. Compares in constant time and never echoes a secret. May return a promise
   * where verification needs I/O (fetching an issuer's keys); the usual HMAC check stays synchronous.
   */
  verify(request: WebhookRequest, key: Key, now: Date): VerifyResult | Promise<VerifyResult>;
  /**
   * Reads an authenticated payload into events; throws `kit.PayloadError` when it is malformed (answered 400).
   * `key` is what `prepare` made (its options, e.g. a registry host the payload does not name).
   */
  parse(request: WebhookRequest, info: VerifiedInfo, key: Key): Parsed | Ignored;
  /**
   * The headers that authenticate `body`, exactly as the host would send them (`fluxgate send`, tests). Called
   * only with the secrets the type reads (never for an unsigned provider).
   */
  sign(body: Uint8Array, secrets: ProviderSecrets, options: SignOptions): Record<string, string>;
}

/** DeliveryInfo after verification: with the delivery id and claims the credential proved. */
export interface VerifiedInfo extends DeliveryInfo {
  claims?: Readonly<Record<string, unknown>>;
}

/** Thrown by `parse` when an authenticated payload cannot be understood; the HTTP answer is 400 with its message. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

/**
 * Thrown by `prepare` for a configured value it cannot use (`kit.problem(field, message)`): reported at that
 * field of the provider (`signingSecret`, `options.audience`) as `file:line:col`. The message never holds a secret.
 */
export class ConfigProblem extends Error {
  override name = 'ConfigProblem';
  constructor(
    /** The provider's field: `secret`, `signingSecret`, or a dotted path under `options`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
