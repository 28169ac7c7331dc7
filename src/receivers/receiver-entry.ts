/**
 * What the Receiver watcher knows of one Receiver (an entry), and what it makes of it: the view the status page
 * shows (never the token, the path shortened) and the status written back to the object.
 */
import type { ReceiverObject, ReceiverSpec } from './receiver-spec.ts';
import { STRICT_ANNOTATION } from './receiver-spec.ts';
import type { ReceiverServing, SecretState } from './receiver-runtime.ts';
import type { FilterCompiler } from './cel-filter.ts';
import type { DesiredStatus } from './status-writer.ts';
import { shortPath } from './webhook-path.ts';

/** A Receiver as fluxgate serves it: whether it is ready, why not, and its path. */
export interface ReceiverView {
  namespace: string;
  name: string;
  type?: string;
  ready: boolean;
  reason: string;
  suspended: boolean;
  path?: string;
}

export interface Entry {
  object: ReceiverObject;
  read: { spec: ReceiverSpec } | { problem: string };
  serving?: ReceiverServing;
  /** What `serving` was made from, so it is made again only when one of them changed. */
  servedFrom?: { spec: ReceiverSpec; secret: SecretState | undefined };
  /** Compiles this generation's CEL once, however often its Secret changes. */
  compiler?: { spec: ReceiverSpec; filters: FilterCompiler };
  /** The path is the config file's: the provider that keeps it. */
  conflict?: string;
  /** What was logged last about it, so each change is logged once. */
  logged?: string;
  /** The status last sent, so it is not sent again before the watch shows it. */
  statusSent?: string;
  /** What fluxgate may not do to this generation's resources (`missingPermissions`), once known. */
  permissions?: { spec: ReceiverSpec; missing: string | undefined };
}

export const keyOf = (object: ReceiverObject) => `${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
export const secretKey = (spec: ReceiverSpec) => (spec.secretName === undefined ? undefined : `${spec.namespace}/${spec.secretName}`);

/** Whether two reads of a Receiver are the same spec (a status write changes neither generation nor spec). */
export function sameSpec(before: Entry | undefined, object: ReceiverObject): boolean {
  if (!before) return false;
  // An annotation does not move the generation: the one fluxgate reads is compared on its own.
  if (before.object.metadata.annotations?.[STRICT_ANNOTATION] !== object.metadata.annotations?.[STRICT_ANNOTATION]) return false;
  const [a, b] = [before.object.metadata.generation, object.metadata.generation];
  return a !== undefined && b !== undefined ? a === b : JSON.stringify(before.object.spec) === JSON.stringify(object.spec);
}

/** The status the Receiver should show, or undefined when fluxgate leaves it alone. */
export function desiredStatus(entry: Entry): DesiredStatus | undefined {
  if (!('spec' in entry.read)) return { webhookPath: '', ready: false, reason: 'ValidationFailed', message: entry.read.problem, generation: entry.object.metadata.generation };
  const { spec } = entry.read;
  const serving = entry.serving;
  // Flux leaves a suspended Receiver's status alone.
  if (serving === undefined || spec.suspend) return undefined;
  const base = { webhookPath: serving.path ?? '', generation: spec.generation };
  if (entry.conflict !== undefined) return { ...base, ready: false, reason: 'PathConflict', message: `the path is served by the config file's provider ${entry.conflict}` };
  if (!serving.ready) return { ...base, ready: false, reason: serving.code, message: serving.reason };
  return { ...base, ready: true, reason: 'Succeeded', message: `Receiver served by fluxgate at ${shortPath(serving.path)}` };
}

export function viewOf(entry: Entry): ReceiverView {
  const { namespace = 'default', name } = entry.object.metadata;
  if (!('spec' in entry.read)) return { namespace, name, ready: false, reason: entry.read.problem, suspended: false };
  const { spec } = entry.read;
  const serving = entry.serving;
  const path = serving?.path !== undefined ? shortPath(serving.path) : undefined;
  const base = { namespace, name, type: spec.type, suspended: spec.suspend, ...(path !== undefined ? { path } : {}) };
  if (serving === undefined) return { ...base, ready: false, reason: 'waiting for its Secret' };
  if (entry.conflict !== undefined) return { ...base, ready: false, reason: `not served: the path is provider ${entry.conflict}'s (from the config file)` };
  const missing = entry.permissions?.spec === spec ? entry.permissions.missing : undefined;
  return { ...base, ready: serving.ready, reason: missing === undefined ? serving.reason : `${serving.reason}; fluxgate may not ${missing} (RBAC)` };
}
