/**
 * The Secrets that Receivers name, read with `get` only (never listed or watched: fluxgate's RBAC names no other
 * Secret verb). A Secret is read when a Receiver naming it appears or changes, and again on every refresh (the
 * watcher's timer), so a rotated token moves the Receiver's path within one interval — as Flux moves it when it
 * next reconciles the Receiver. Values stay in memory only; nothing here logs or returns them except `state`.
 */
import { createHash } from 'node:crypto';
import { KubeError, type KubeApi } from '../kube/index.ts';
import type { SecretState } from './receiver-runtime.ts';

export interface SecretReader {
  /** What was last read of `namespace/name`; undefined until its first read ends. */
  state(namespace: string, name: string): SecretState | undefined;
  /** Reads it now (one read at a time per Secret); true when what is known of it changed. */
  read(namespace: string, name: string, signal: AbortSignal): Promise<boolean>;
  /** Forgets every Secret not in `keep` (`namespace/name`): no Receiver names them any more. */
  retain(keep: ReadonlySet<string>): void;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

/** The Secret's data as text (Kubernetes sends base64), with a digest of it to tell a change. */
function decode(secret: { data?: Record<string, unknown> }): { data: Record<string, string>; version: string } {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret?.data ?? {})) if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('utf8');
  const version = createHash('sha256').update(JSON.stringify(Object.entries(data).sort(([a], [b]) => a.localeCompare(b)))).digest('hex');
  return { data, version };
}

/**
 * @example
 * const secrets = createSecretReader(client.api, (message, fields) => log.warn(message, fields));
 * if (await secrets.read('flux-system', 'receiver-token', signal)) recompute();
 * secrets.state('flux-system', 'receiver-token'); // { data: { token: '…' } } or { problem: 'Secret flux-system/receiver-token not found' }
 */
export function createSecretReader(api: KubeApi, warn: (message: string, fields: Record<string, unknown>) => void): SecretReader {
  const known = new Map<string, { state: SecretState; version: string }>();
  const reading = new Map<string, Promise<boolean>>();

  async function fetchOnce(namespace: string, name: string, signal: AbortSignal): Promise<boolean> {
    const key = keyOf(namespace, name);
    const before = known.get(key);
    let next: { state: SecretState; version: string };
    try {
      const secret = await api.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`, { signal, wantBody: true });
      const { data, version } = decode(secret);
      next = { state: { data }, version };
    } catch (error) {
      if (signal.aborted) return false;
      const status = error instanceof KubeError ? error.status : undefined;
      if (status === 404) next = { state: { problem: `Secret ${key} not found` }, version: 'absent' };
      else if (status === 403) next = { state: { problem: `fluxgate may not get Secret ${key} (RBAC: get on secrets in ${namespace})` }, version: 'forbidden' };
      else {
        // The API server is unreachable or slow: what was read last still holds, so no route flaps.
        warn('could not read a Receiver Secret; keeping what was read last', { secret: key, error: (error as Error).message });
        if (before) return false;
        next = { state: { problem: `Secret ${key} could not be read: ${(error as Error).message}` }, version: 'error' };
      }
    }
    // An unchanged Secret keeps its state object: the watcher compares them to know when to rebuild a provider.
    if (before !== undefined && before.version === next.version) return false;
    known.set(key, next);
    return true;
  }

  return {
    state: (namespace, name) => known.get(keyOf(namespace, name))?.state,
    read(namespace, name, signal) {
      const key = keyOf(namespace, name);
      const pending = reading.get(key);
      if (pending) return pending;
      const started = fetchOnce(namespace, name, signal).finally(() => reading.delete(key));
      reading.set(key, started);
      return started;
    },
    retain(keep) {
      for (const key of known.keys()) if (!keep.has(key)) known.delete(key);
    },
  };
}
