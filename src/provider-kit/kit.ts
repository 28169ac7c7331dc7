/**
 * The provider kit: everything a provider file needs besides its own wire format, written once and tested once.
 * Every provider — built in or loaded from `pluginsDir` — receives it as the argument of its factory, so provider
 * files import nothing but types. Read this file and `contract.ts` (the contract), and a new host is one short
 * file.
 */
import { Type } from '@sinclair/typebox';
import { ConfigProblem, PayloadError, type Ignored, type ProviderCodec } from './contract.ts';
import { safeEqual } from '../core/index.ts';
import { basicAuth, basicAuthHeader, bearerToken } from './credentials.ts';
import { genericEvent } from './generic-payload.ts';
import { changedPaths, createOrDelete, isZeroId, ref, refOf, typedRef, ZERO_SHA } from './git.ts';
import { compileGlob } from '../core/index.ts';
import { utf8, utf8Once, verifyGithubSha256 } from './github-signature.ts';
import { hmac, signHmacHeader, verifyHeaderToken, verifyHmacHeader } from './hmac.ts';
import { imageEvent, isDigest, isTag, withoutReference } from './images.ts';
import { oidcVerifier } from './oidc.ts';
import { formField, json, payloadLimits, read, repositoryNames, repositorySpellings, signedJson, text } from './payload.ts';
import { printable } from './verdict.ts';
import { trimTrailing } from './strings.ts';
import { signStandardWebhook, STANDARD_WEBHOOKS_TOLERANCE_SECONDS, standardWebhooksKey, verifyStandardWebhook } from './standard-webhooks.ts';

export type { HmacAlgorithm, HmacSignature } from './hmac.ts';
export type { OidcOptions, OidcVerifier } from './oidc.ts';
export type { PayloadReader } from './payload.ts';

/** What a provider file's default export is: it receives the kit and returns its codec. */
export type ProviderFactory = (kit: ProviderKit) => ProviderCodec<any>;

export interface ProviderKit {
  // --- authentication -----------------------------------------------------------------------------------------
  /** Constant-time string comparison (only the length may leak). */
  safeEqual: typeof safeEqual;
  /** Hex or base64 HMAC (sha1, sha256, sha512). */
  hmac: typeof hmac;
  /**
   * Body signatures in a header, `<algorithm>=<hex>` or bare hex:
   * `verify(request, { header, algorithms, prefixed }, secret, data?)` → VerifyResult naming what was wrong;
   * `sign(signature, secret, body)` → the header value.
   */
  hmacHeader: { verify: typeof verifyHmacHeader; sign: typeof signHmacHeader };
  /** `headerToken(request, header, secret)`: a shared token sent verbatim in a header, compared in constant time. */
  headerToken: typeof verifyHeaderToken;
  /**
   * `githubSha256(request, secret, text?)`: GitHub's `X-Hub-Signature-256` through `@octokit/webhooks-methods`
   * (GitHub's own verify) over the body's UTF-8 text; a body that is not valid UTF-8 is checked over its exact bytes.
   */
  githubSha256: typeof verifyGithubSha256;
  /**
   * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`, ±5 minutes): `key(secret)`
   * decodes a `whsec_` secret (throws when malformed; call it in `prepare`), `verify` returns the signed
   * `webhook-id` as the delivery id, `sign` makes the three headers.
   */
  standardWebhooks: { key: typeof standardWebhooksKey; verify: typeof verifyStandardWebhook; sign: typeof signStandardWebhook; toleranceSeconds: number };
  /** `Authorization: Basic …` → user and password; `basicAuthHeader(user, password)` makes one. */
  basicAuth: typeof basicAuth;
  basicAuthHeader: typeof basicAuthHeader;
  /** `Authorization: Bearer …` → the token. */
  bearerToken: typeof bearerToken;
  /** An OIDC ID-token verifier (discovery, cached and rotating JWKS, iss/aud/exp) for one configured provider. */
  oidc: typeof oidcVerifier;

  // --- payloads -----------------------------------------------------------------------------------------------
  /** Thrown by `parse` for an authenticated but malformed payload; answered 400 with its message. */
  PayloadError: typeof PayloadError;
  /** Caps on repositories, commits, changed paths and events per delivery (see payload.ts). */
  limits: typeof payloadLimits;
  /** JSON of a body; PayloadError when it is not JSON. */
  json: typeof json;
  /** UTF-8 text of a body. */
  text: typeof text;
  /** The body's text when it is valid UTF-8 (a byte order mark kept), else undefined: decoding it encodes back to the same bytes. */
  utf8: typeof utf8;
  /** `utf8`, decoding each body once (make one per codec, in its factory: `verify` and `parse` then share the text). */
  utf8Once: typeof utf8Once;
  /** One field of a form-encoded body (`payload=`). */
  formField: typeof formField;
  /** The JSON a Gitea-style hook signs: the body, or a form body's `payload` field. */
  signedJson: typeof signedJson;
  /** A typed reader over a JSON object whose errors name the field: `read(json(body)).object('repository').string('full_name')`. */
  read: typeof read;
  /** Distinct repository spellings gathered from a payload, capped at `limits.repositories`. */
  repositoryNames: typeof repositoryNames;
  /** The spellings a repository object gives in the named fields (`full_name`, `clone_url`, …), distinct and capped. */
  repositorySpellings: typeof repositorySpellings;
  /** The answer of `parse` for a well-formed payload that is not about code or images (200 with the reason). */
  ignore(reason: string): Ignored;

  // --- Git ------------------------------------------------------------------------------------------------------
  /** The all-zero object id of a deleted (or new) ref. */
  ZERO_SHA: string;
  isZeroId: typeof isZeroId;
  /** `refs/heads/x` → `{ ref, branch: 'x' }`, `refs/tags/v1` → `{ ref, tag: 'v1' }`. */
  ref: typeof ref;
  /** A short branch or tag name → the same as `ref` of its full ref. */
  refOf: typeof refOf;
  /** A `create`/`delete` payload's short `ref` + `ref_type` → the same as `ref` of its full ref. */
  typedRef: typeof typedRef;
  /** The event of a `create`/`delete` payload: its ref, `deleted` for a delete, else at `sha`. */
  createOrDelete: typeof createOrDelete;
  /** Changed paths of a push from its commits' file lists, with the truncation rules in one place. */
  changedPaths: typeof changedPaths;
  /** The event of fluxgate's own generic payload (`{ repository, ref | branch | tag, commit, paths }`, see generic-payload.ts). */
  genericEvent: typeof genericEvent;

  // --- registries -------------------------------------------------------------------------------------------------
  /** The event of one pushed (or deleted) image, with its tag and digest also as `tag` and `commit`. */
  imageEvent: typeof imageEvent;
  /** What OCI allows a tag and a digest to look like; a reference without its `:tag` or `@digest` (a registry's `:port` stays). */
  oci: { isTag: typeof isTag; isDigest: typeof isDigest; withoutReference: typeof withoutReference };

  // --- options ----------------------------------------------------------------------------------------------------
  /** TypeBox's builder, for a provider's `options` schema (checked with file:line:col like the rest of the config). */
  Type: typeof Type;
  /** The error `prepare` throws for a configured value it cannot use, reported at `field` (`signingSecret`, `options.audience`). */
  problem(field: string, message: string): Error;
  /** Compiles a glob as the config writes them (`org/*`, `release/**`); throws on a malformed one. */
  glob: typeof compileGlob;
  /** A sender-controlled value if it is short and plain enough to show in a reason, else undefined. */
  printable: typeof printable;
  /** `value` without the `character`s it ends with (`https://git.example//` → `https://git.example`), in one pass: never `replace(/\/+$/, '')` on what a sender chose, which backtracks. */
  trimTrailing: typeof trimTrailing;
}

/** The kit handed to every provider factory. It holds no state: verifiers with caches are made per provider, in `prepare`. */
export const providerKit: ProviderKit = {
  safeEqual,
  hmac,
  hmacHeader: { verify: verifyHmacHeader, sign: signHmacHeader },
  headerToken: verifyHeaderToken,
  githubSha256: verifyGithubSha256,
  standardWebhooks: { key: standardWebhooksKey, verify: verifyStandardWebhook, sign: signStandardWebhook, toleranceSeconds: STANDARD_WEBHOOKS_TOLERANCE_SECONDS },
  basicAuth,
  basicAuthHeader,
  bearerToken,
  oidc: oidcVerifier,
  PayloadError,
  limits: payloadLimits,
  json,
  text,
  utf8,
  utf8Once,
  formField,
  signedJson,
  read,
  repositoryNames,
  repositorySpellings,
  ignore: (reason) => ({ ignored: reason }),
  ZERO_SHA,
  isZeroId,
  ref,
  refOf,
  typedRef,
  createOrDelete,
  changedPaths,
  genericEvent,
  imageEvent,
  oci: { isTag, isDigest, withoutReference },
  Type,
  problem: (field, message) => new ConfigProblem(field, message),
  glob: compileGlob,
  printable,
  trimTrailing,
};
