/**
 * The config-file equivalent of a cluster's Receivers (`fluxgate import-receivers`): one provider per Receiver at
 * the same hashed path, and one target naming its resources. The token becomes `{ env: VARIABLE }` — never its
 * value — and the variables to set are listed with the kubectl line that reads each. What a config file cannot say
 * the way Flux does (a resourceFilter, generic-oidc's CEL validations, a suspended or unreadable Receiver) is left
 * out with the reason, never imported as something broader.
 */
import { createHash } from 'node:crypto';
import type { Catalog } from '../provider-kit/index.ts';
import { defaultApiVersion, REQUESTED_AT_ANNOTATION } from '../core/index.ts';
import { codecsOf, FLUX_TYPES } from './flux-types.ts';
import { receiverCodec } from './receiver-codec.ts';
import type { ReceiverSpec } from './receiver-spec.ts';
import { receiverPath } from './webhook-path.ts';

export interface ImportedReceiver {
  namespace: string;
  name: string;
  /** The Receiver as read, or why it cannot be read. */
  read: { spec: ReceiverSpec } | { problem: string };
  /** The Secret's data, or why it could not be read (undefined for generic-oidc). */
  secret?: { data: Readonly<Record<string, string>> } | { problem: string };
}

export interface ConfigExport {
  /** `providers` and `targets`, ready to be written as YAML. */
  config: { providers: Record<string, unknown>[]; targets: Record<string, unknown>[] };
  /** The variables the config reads, and where each value is. */
  variables: { variable: string; namespace: string; secret: string }[];
  /** What was left out or differs, one sentence each (for the file's comments and stderr). */
  notes: string[];
}

const NAME_MAX = 63;

/** A config name (lowercase, `[a-z0-9._-]`, at most 63) for `namespace/name`, distinct from those `taken`. */
function configName(namespace: string, name: string, taken: Set<string>): string {
  let candidate = `${namespace}-${name}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 8);
  if (candidate.length > NAME_MAX || taken.has(candidate)) candidate = `${candidate.slice(0, NAME_MAX - 9).replace(/[._-]+$/, '')}-${hash}`;
  taken.add(candidate);
  return candidate;
}

/** The environment variable that holds a Receiver's token. */
function variableName(namespace: string, name: string, taken: Set<string>): string {
  let candidate = `FLUX_RECEIVER_${namespace}_${name}_TOKEN`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  if (taken.has(candidate)) candidate = `${candidate}_${createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 6).toUpperCase()}`;
  taken.add(candidate);
  return candidate;
}

/** Why the config file cannot hold this Receiver as Flux serves it, if it cannot. */
function leftOut(spec: ReceiverSpec): string | undefined {
  if (spec.suspend) return 'it is suspended';
  if (spec.type === 'generic-oidc') return "its oidcProviders' CEL validations have no config-file equivalent (keep it as a Receiver: fluxReceivers serves it)";
  if (spec.resourceFilter !== undefined || spec.resources.some((resource) => resource.filter !== undefined)) return 'a config target cannot filter with CEL, and importing it without its resourceFilter would reconcile more than Flux does (keep it as a Receiver: fluxReceivers serves it)';
  if (spec.resources.some((resource) => resource.matchLabels !== undefined && Object.keys(resource.matchLabels).length === 0)) return "name '*' with empty matchLabels selects every object of the kind, which a config target refuses";
  return undefined;
}

/**
 * @example
 * const { config, variables, notes } = receiversAsConfig([{ namespace: 'flux-system', name: 'github', read: { spec }, secret: { data: { token } } }], catalog);
 * // config.providers[0]: { name: 'flux-system-github', type: 'github', secret: { env: 'FLUX_RECEIVER_FLUX_SYSTEM_GITHUB_TOKEN' }, path: '/hook/…' }
 */
export function receiversAsConfig(receivers: readonly ImportedReceiver[], catalog: Catalog): ConfigExport {
  const providers: Record<string, unknown>[] = [];
  const targets: Record<string, unknown>[] = [];
  const variables: ConfigExport['variables'] = [];
  const notes: string[] = [];
  const names = new Set<string>();
  const variableNames = new Set<string>();
  for (const receiver of receivers) {
    const where = `Receiver ${receiver.namespace}/${receiver.name}`;
    if ('problem' in receiver.read) {
      notes.push(`${where} is left out: ${receiver.read.problem}`);
      continue;
    }
    const { spec } = receiver.read;
    const reason = leftOut(spec);
    if (reason !== undefined) {
      notes.push(`${where} is left out: ${reason}`);
      continue;
    }
    const secret = receiver.secret;
    if (secret === undefined || 'problem' in secret || secret.data.token === undefined) {
      notes.push(`${where} is left out: ${secret && 'problem' in secret ? secret.problem : `Secret ${spec.namespace}/${spec.secretName} has no token key`}, so its path cannot be worked out`);
      continue;
    }
    const type = FLUX_TYPES[spec.type]!;
    const codecs = codecsOf(type, catalog);
    if ('missing' in codecs) {
      notes.push(`${where} is left out: no ${codecs.missing} provider type`);
      continue;
    }
    const name = configName(spec.namespace, spec.name, names);
    const provider: Record<string, unknown> = { name };
    // Flux's bitbucket serves Cloud and Data Center at one path; a config provider is one of them.
    const events = type.eventHeader !== undefined && spec.events.length > 0 ? [...receiverCodec(type, codecs, spec.events, { readsRequest: false }).events] : undefined;
    const dataCenter = spec.type === 'bitbucket' && (events ?? []).some((event) => event === 'repo:refs_changed' || event.startsWith('pr:') || event === 'diagnostics:ping');
    provider.type = dataCenter ? 'bitbucket-server' : type.codec;
    if (spec.type === 'bitbucket') notes.push(`${where}: imported as ${provider.type as string} (Flux's bitbucket serves Bitbucket Cloud and Data Center at one path; a provider serves one)`);
    if (type.token === 'secret') {
      const variable = variableName(spec.namespace, spec.name, variableNames);
      provider.secret = { env: variable };
      variables.push({ variable, namespace: spec.namespace, secret: spec.secretName! });
    } else if (spec.type === 'gcr') {
      const options = type.options?.(secret.data);
      if (typeof options === 'string') {
        names.delete(name);
        notes.push(`${where} is left out: ${options}`);
        continue;
      }
      // The service account's email and the audience identify the subscription; they authenticate nothing.
      provider.options = options;
    } else {
      provider.allowUnsigned = true;
    }
    if (events !== undefined) provider.events = events;
    provider.path = receiverPath(secret.data.token, spec.name, spec.namespace);
    if (type.anyBody) notes.push(`${where}: Flux's ${spec.type} takes any body; a ${spec.type} provider reads fluxgate's payload (repository, ref), so a sender that posts anything else is answered 400 — keep it as a Receiver if its senders cannot change`);
    if (type.token === 'path') notes.push(`${where}: ${spec.type} checks no credential, so its path is its only secret: keep this file as private as the Secret`);
    providers.push(provider);
    targets.push({
      name,
      providers: [name],
      resources: spec.resources.map((resource) => ({
        kind: resource.kind,
        apiVersion: resource.apiVersion,
        namespace: resource.namespace,
        ...(resource.name !== undefined ? { name: resource.name } : { matchLabels: resource.matchLabels }),
        // A kind fluxgate does not know needs the annotation named; Flux sets requestedAt on every kind.
        ...(defaultApiVersion(resource.kind) === undefined ? { annotation: REQUESTED_AT_ANNOTATION } : {}),
      })),
    });
  }
  return { config: { providers, targets }, variables, notes };
}
