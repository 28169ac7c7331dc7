/**
 * The contract between `fluxgate register`'s reconciliation (src/register: plan, sync) and one host's API client
 * (plugins/<type>/hook-client.ts): hooks in fluxgate's terms, so comparing and planning never depend on a host's
 * wire format.
 */
/** Where hooks are kept: a repository or organization (GitHub, Gitea), a project or group (GitLab). */
export interface Scope {
  kind: 'repository' | 'organization' | 'project' | 'group';
  /** `owner/repo`, `org`, `group/project`, `group/subgroup`, or a GitLab numeric id. */
  name: string;
}

/** A hook as the host has it. A field the host does not have (or does not show) is undefined and never compared. */
export interface HostHook {
  id: number;
  url: string;
  /** The host's event names (GitLab: the `*_events` flags that are on), sorted. */
  events: string[];
  /** `json` or `form` (GitHub, Gitea). */
  contentType?: string;
  /** GitHub, Gitea. */
  active?: boolean;
  /** Whether the host checks the certificate of fluxgate's URL (GitHub `insecure_ssl`, GitLab `enable_ssl_verification`). */
  tlsVerification?: boolean;
  /** Whether a secret is set, where the host says so (GitHub masks it, newer GitLab has `token_present`). */
  secretSet?: boolean;
  /** GitLab's signing token (`signing_token_present`). */
  signingSecretSet?: boolean;
  /** Gitea: the branch filter, sent back unchanged on edit (its API would clear it otherwise). */
  branchFilter?: string;
}

/** The hook a provider's config asks for. Content type JSON, active and TLS verification on are always wanted. */
export interface WantedHook {
  /** The provider it is for. */
  provider: string;
  url: string;
  /** The host's event names, sorted. */
  events: string[];
  secret?: string;
  /** GitLab's signing token (`whsec_…`). */
  signingSecret?: string;
}

/** A field that differs, in printable words: never a secret's value. */
export interface FieldChange {
  field: 'events' | 'content_type' | 'active' | 'tls_verification' | 'secret' | 'signing_secret';
  from: string;
  to: string;
}

/** One host's API, for the hooks of one token. Methods throw HostError (host-error.ts) on a failed answer. */
export interface HookHost {
  /** Every hook of the scope (all pages). */
  list(scope: Scope): Promise<HostHook[]>;
  /** Creates the hook; resolves to a note for the user when the host accepted less than asked. */
  create(scope: Scope, wanted: WantedHook): Promise<string | undefined>;
  /** Changes exactly `fields` of the hook to what `wanted` says. */
  update(scope: Scope, hook: HostHook, wanted: WantedHook, fields: readonly FieldChange['field'][]): Promise<string | undefined>;
  remove(scope: Scope, hook: HostHook): Promise<void>;
  /** What to do about a failure on this scope, in the user's words (the permission or scope to add). */
  explain(error: unknown, scope: Scope): string;
}

/**
 * One request to the host's API. src/register hands each client one that serves only `apiUrl`'s origin and waits
 * out rate limits as the host asks.
 */
export type HostFetch = (request: Request) => Promise<Response>;
