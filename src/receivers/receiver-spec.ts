/**
 * A Receiver object (notification.toolkit.fluxcd.io/v1) as fluxgate reads it: checked the way
 * notification-controller checks it, since the test CRD (and an old API server) may not enforce the schema.
 * Unknown fields are ignored, as Flux ignores them.
 */
import { defaultApiVersion } from '../core/index.ts';
import { FLUX_TYPE_NAMES } from './flux-types.ts';

export const RECEIVER_API_VERSION = 'notification.toolkit.fluxcd.io/v1';
export const RECEIVER_KIND = 'Receiver';
/** `"true"`: this Receiver's deliveries are read as fluxgate's providers read them; `"false"`: as Flux does. */
export const STRICT_ANNOTATION = 'fluxgate.io/strict';

/** The parts of a watched Kubernetes object this module reads. */
export interface ReceiverObject {
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: unknown;
  status?: unknown;
}

export interface ReceiverResource {
  apiVersion: string;
  kind: string;
  namespace: string;
  /** Undefined for `name: '*'` (every object with `matchLabels`). */
  name?: string;
  matchLabels?: Record<string, string>;
  /** The resource's own `filter` (CEL), stacked with `resourceFilter`. */
  filter?: string;
}

export interface OidcProviderSpec {
  issuerURL: string;
  audience: string;
  variables: { name: string; expression: string }[];
  validations: { expression: string; message: string }[];
}

export interface ReceiverSpec {
  name: string;
  namespace: string;
  generation?: number;
  type: string;
  events: string[];
  resources: ReceiverResource[];
  resourceFilter?: string;
  /** `spec.secretRef.name`; undefined only for generic-oidc. */
  secretName?: string;
  suspend: boolean;
  oidcProviders: OidcProviderSpec[];
  /** From the `fluxgate.io/strict` annotation; undefined: `fluxReceivers.strict` decides. */
  strict?: boolean;
}

/** Kinds Flux gives an apiVersion to that fluxgate's own table lacks. */
const FLUX_ONLY_API_VERSIONS: Readonly<Record<string, string>> = { ArtifactGenerator: 'source.extensions.fluxcd.io/v1beta1' };
/** Flux's default audience for generic-oidc tokens. */
const DEFAULT_OIDC_AUDIENCE = 'notification-controller';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringRecord = (value: unknown): value is Record<string, string> => isRecord(value) && Object.values(value).every((item) => typeof item === 'string');
const optionalString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function readResource(raw: unknown, index: number, receiverNamespace: string): ReceiverResource | string {
  const at = `spec.resources[${index}]`;
  if (!isRecord(raw)) return `${at} is not an object`;
  const kind = optionalString(raw.kind);
  const name = optionalString(raw.name);
  if (kind === undefined) return `${at}.kind is required`;
  if (name === undefined) return `${at}.name is required`;
  const apiVersion = optionalString(raw.apiVersion) ?? defaultApiVersion(kind) ?? FLUX_ONLY_API_VERSIONS[kind];
  if (apiVersion === undefined) return `${at}: apiVersion must be specified for kind "${kind}"`;
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) return `${at}.apiVersion "${apiVersion}" is not a group/version`;
  const namespace = optionalString(raw.namespace) ?? receiverNamespace;
  const filter = optionalString(raw.filter);
  const common = { apiVersion, kind, namespace, ...(filter !== undefined ? { filter } : {}) };
  if (name !== '*') return { ...common, name };
  if (!isStringRecord(raw.matchLabels)) return `${at}: matchLabels must be set when name is '*'`;
  return { ...common, matchLabels: raw.matchLabels };
}

function readOidcProviders(raw: unknown): OidcProviderSpec[] | string {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return 'spec.oidcProviders is not a list';
  const providers: OidcProviderSpec[] = [];
  for (const [index, item] of raw.entries()) {
    const at = `spec.oidcProviders[${index}]`;
    if (!isRecord(item)) return `${at} is not an object`;
    const issuerURL = optionalString(item.issuerURL);
    if (issuerURL === undefined || !/^https?:\/\//.test(issuerURL)) return `${at}.issuerURL must be an http(s) URL`;
    if (providers.some((provider) => provider.issuerURL === issuerURL)) return `${at}: duplicate issuerURL ${issuerURL}`;
    const variables = Array.isArray(item.variables) ? item.variables : [];
    const validations = Array.isArray(item.validations) ? item.validations : [];
    if (validations.length === 0) return `${at}: at least one validation is required; without one any caller that can get a token from ${issuerURL} could trigger the Receiver`;
    const named = variables.map((variable) => (isRecord(variable) ? { name: optionalString(variable.name), expression: optionalString(variable.expression) } : {}));
    const checked = validations.map((validation) => (isRecord(validation) ? { expression: optionalString(validation.expression), message: optionalString(validation.message) } : {}));
    if (named.some((variable) => !variable.name || !variable.expression)) return `${at}.variables: each needs a name and an expression`;
    if (checked.some((validation) => !validation.expression || !validation.message)) return `${at}.validations: each needs an expression and a message`;
    providers.push({
      issuerURL,
      audience: optionalString(item.audience) ?? DEFAULT_OIDC_AUDIENCE,
      variables: named as OidcProviderSpec['variables'],
      validations: checked as OidcProviderSpec['validations'],
    });
  }
  return providers;
}

/**
 * The Receiver's spec, or why fluxgate cannot serve it (as Flux would mark it not ready).
 *
 * @example
 * readReceiver({ metadata: { name: 'github', namespace: 'flux-system' }, spec: { type: 'github', secretRef: { name: 'token' },
 *   resources: [{ kind: 'GitRepository', name: 'flux-system' }] } });
 * // { spec: { type: 'github', secretName: 'token', resources: [{ apiVersion: 'source.toolkit.fluxcd.io/v1', … }], … } }
 */
export function readReceiver(object: ReceiverObject, options: { crossNamespaceRefs?: boolean } = {}): { spec: ReceiverSpec } | { problem: string } {
  const { name, namespace = 'default', generation } = object.metadata;
  const raw = isRecord(object.spec) ? object.spec : {};
  const type = optionalString(raw.type);
  if (type === undefined) return { problem: 'spec.type is required' };
  if (!(FLUX_TYPE_NAMES as readonly string[]).includes(type)) return { problem: `spec.type "${type.slice(0, 40)}" is not a Receiver type (${FLUX_TYPE_NAMES.join(', ')})` };
  const events = Array.isArray(raw.events) ? raw.events.filter((event): event is string => typeof event === 'string' && event !== '') : [];
  if (!Array.isArray(raw.resources) || raw.resources.length === 0) return { problem: 'spec.resources is required' };
  const resources: ReceiverResource[] = [];
  for (const [index, item] of raw.resources.entries()) {
    const resource = readResource(item, index, namespace);
    if (typeof resource === 'string') return { problem: resource };
    // notification-controller's --no-cross-namespace-refs: a tenant's Receiver reaches its own namespace only.
    if (options.crossNamespaceRefs === false && resource.namespace !== namespace) return { problem: `spec.resources[${index}]: cross-namespace references are not allowed (fluxReceivers.crossNamespaceRefs: false)` };
    resources.push(resource);
  }
  const secretName = isRecord(raw.secretRef) ? optionalString(raw.secretRef.name) : undefined;
  const oidcProviders = readOidcProviders(raw.oidcProviders);
  if (typeof oidcProviders === 'string') return { problem: oidcProviders };
  // The rules Flux's CRD encodes (and its controller re-checks for API servers that skip them).
  if (type === 'generic-oidc') {
    if (oidcProviders.length === 0) return { problem: 'a generic-oidc Receiver needs at least one oidcProvider' };
    if (secretName !== undefined) return { problem: 'secretRef cannot be set when type is generic-oidc' };
  } else {
    if (oidcProviders.length > 0) return { problem: 'oidcProviders can only be set when type is generic-oidc' };
    if (secretName === undefined) return { problem: 'spec.secretRef.name is required' };
  }
  const resourceFilter = optionalString(raw.resourceFilter);
  const strict = object.metadata.annotations?.[STRICT_ANNOTATION];
  if (strict !== undefined && strict !== 'true' && strict !== 'false') return { problem: `annotation ${STRICT_ANNOTATION} is "true" or "false", not "${strict.slice(0, 40)}"` };
  return {
    spec: {
      name,
      namespace,
      ...(generation !== undefined ? { generation } : {}),
      type,
      events,
      resources,
      ...(resourceFilter !== undefined ? { resourceFilter } : {}),
      ...(secretName !== undefined ? { secretName } : {}),
      suspend: raw.suspend === true,
      oidcProviders,
      ...(strict !== undefined ? { strict: strict === 'true' } : {}),
    },
  };
}
