/**
 * The contract between fluxgate and a provider plugin. A plugin knows one Git host or registry's wire format
 * and nothing of Kubernetes. Built-in plugins (in `plugins/`) and runtime plugins (from `pluginsDir`) have the
 * same shape: a default export `(host: PluginHost) => ProviderPlugin`. Runtime plugins may only `import type`
 * from fluxgate, because a compiled binary cannot resolve package imports for files outside it; everything
 * they need at run time arrives in `host`.
 */

/** A webhook as it came off the wire: exact bytes, so signatures are checked over what the sender signed. */
export interface WebhookRequest {
  body: Uint8Array;
  headers: Headers;
}

/** The secrets a provider is configured with, already resolved from env/file/value. */
export interface ProviderSecrets {
  secret?: string;
  signingSecret?: string;
}

/**
 * What `verify` concluded. On success, `deliveryId` is the delivery id the signature itself covers (Standard
 * Webhooks' `webhook-id`), when there is one: the pipeline dedupes and records on it rather than on the id
 * `describe` read from unsigned headers, so a replay with a fresh unsigned id is still a duplicate.
 *
 * @example
 * return { ok: true, deliveryId: headers.get('webhook-id')! }; // signed over "{id}.{timestamp}.{body}"
 * return { ok: false, reason: 'signature does not match' };      // never the expected value
 */
export type VerifyResult = { ok: true; deliveryId?: string } | { ok: false; reason: string };

/** What the headers (and, where needed, the body) say about a delivery before it is parsed. */
export interface DeliveryInfo {
  /** The event name as the provider spells it (`push`, `Push Hook`, `repo:push`); what `events` filters on. */
  event: string;
  /** The provider's delivery id, stable across the provider's own retries where the provider offers one. */
  deliveryId?: string;
  /** A connectivity check (GitHub `ping`): answered 200 and never reconciles anything. */
  ping?: boolean;
}

/** The normalized event every plugin parses to; the pipeline matches targets against it. */
export interface GitEvent {
  event: string;
  deliveryId?: string;
  /** Every URL or slug the payload gives for the repository (clone URLs, web URL, `org/repo`). */
  repositories: string[];
  /** Full ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`, when the event concerns one. */
  ref?: string;
  branch?: string;
  tag?: string;
  /** Commit or digest the event points at. */
  commit?: string;
  /** Paths changed by the push; `undefined` when the provider does not report them (then path filters pass). */
  changedPaths?: string[];
  /** True when the ref was deleted. */
  deleted?: boolean;
  /**
   * Set when a well-formed payload is not about code at all (a GitLab system hook for `user_create`): the
   * delivery is answered 200 with this reason instead of 400, so the host does not count it as a failure
   * (GitLab disables hooks that keep failing).
   */
  ignored?: string;
}

/** Thrown by `parse` when an authenticated payload cannot be understood; the HTTP layer answers 400. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

/** Options for building a realistic sample event (used by `fluxgate send` and by tests). */
export interface SampleOptions {
  event?: string;
  /** Slug (`org/repo`) or URL. */
  repository?: string;
  branch?: string;
  tag?: string;
  deliveryId?: string;
  changedPaths?: string[];
}

export interface SignOptions {
  deliveryId?: string;
  /** Time used for timestamped signatures (Standard Webhooks). */
  now?: Date;
}

export interface ProviderPlugin {
  /** The `type` users write in `providers[]`. */
  id: string;
  /** Events accepted when the provider config gives no `events`. */
  defaultEvents: string[];
  /** Whether the plugin can authenticate anything without a secret (only `generic`). */
  supportsUnsigned?: boolean;
  /** Which secret fields the plugin uses; at least one of them must be configured unless unsigned is allowed. */
  secretFields: (keyof ProviderSecrets)[];
  /**
   * Optional: checks the format of a resolved secret when the config is loaded (by `validate` and `serve`), so
   * a secret that could never verify a request is refused at start instead of answering every delivery 401.
   * Returns a sentence saying what is wrong, which must never contain the value, or `undefined` when it is fine.
   *
   * @example
   * checkSecret(field, value) {
   *   return field === 'signingSecret' && !value.startsWith('whsec_') ? 'a signing token starts with whsec_' : undefined;
   * }
   */
  checkSecret?(field: keyof ProviderSecrets, value: string): string | undefined;
  /** Checks signature or token over the exact bytes. Must compare in constant time and never echo a secret. */
  verify(request: WebhookRequest, secrets: ProviderSecrets, now: Date): VerifyResult;
  /** Reads event name, delivery id and ping-ness, cheaply, before the body is parsed. */
  describe(request: WebhookRequest): DeliveryInfo;
  /** Parses the payload to a GitEvent; throws PayloadError when it is malformed. */
  parse(request: WebhookRequest, info: DeliveryInfo): GitEvent;
  /** A realistic unsigned sample delivery: body and the provider's non-secret headers. */
  sample(options: SampleOptions): { body: Uint8Array; headers: Record<string, string> };
  /** The headers that authenticate `body` with `secrets`, exactly as the provider would send them. */
  sign(body: Uint8Array, secrets: ProviderSecrets, options?: SignOptions): Record<string, string>;
}

/** What the host hands every plugin, so runtime plugins need no package imports. */
export interface PluginHost {
  /** Hex or base64 HMAC of `data`. */
  hmac(algorithm: 'sha1' | 'sha256' | 'sha512', key: string | Uint8Array, data: Uint8Array | string, encoding: 'hex' | 'base64'): string;
  /** Constant-time comparison of two strings (false when lengths differ, without leaking where). */
  safeEqual(a: string, b: string): boolean;
  /** Random delivery id for samples. */
  randomId(): string;
  PayloadError: typeof PayloadError;
  /** UTF-8 decoding of a body. */
  text(body: Uint8Array): string;
  /** Parses JSON, throwing PayloadError with a short reason on failure. */
  json(body: Uint8Array | string): unknown;
  /**
   * The union of `added`, `modified` and `removed` over `commits` (the shape GitHub, GitLab, Gitea and others
   * share). `undefined` when a commit carries no file lists at all, since the paths are then unknown.
   * Throws PayloadError naming `label[i].field` on wrong types.
   */
  commitFiles(commits: readonly unknown[], label: string): string[] | undefined;
  /**
   * Appends to `into` the non-empty string `fields` of `object` (a payload's repository or project), each
   * once. Nothing for `undefined`/`null`; PayloadError naming `label` or `label.field` on wrong types.
   */
  collectUrls(object: unknown, label: string, fields: readonly string[], into: string[]): string[];
}

export type PluginFactory = (host: PluginHost) => ProviderPlugin;
