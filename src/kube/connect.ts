/**
 * Builds the KubeClient for a resolved Kubernetes target (kube-target.ts): resolves the kubeconfig's
 * credentials (certificate files, token, exec/auth-provider plugins) and connects.
 *
 * @kubernetes/client-node is used only to load a kubeconfig and resolve its credentials; the HTTP is Bun's fetch
 * in kube-client.ts, because client-node's HTTP layer ignores the CA, insecure-skip-tls-verify and client
 * certificates under Bun.
 */
import { MAX_KUBE_FILE_BYTES } from '../config/index.ts';
import type { KubernetesConfig } from '../config/index.ts';
import { readFailure, readRegularText } from '../core/index.ts';
import { createDryRunClient } from './dry-run-client.ts';
import { createKubeClient, type KubeClient } from './client.ts';
import { resolveKubernetes, type KubeTarget, type ResolveDeps } from './target.ts';

export type ResolvedMode = 'kubeconfig' | 'in-cluster' | 'dry-run';

export interface KubeConnection {
  mode: ResolvedMode;
  /** Always set: in dry-run it is the dry-run client (target `dry-run`). */
  client: KubeClient;
  /**
   * One line for logs and the status page, meant to follow the mode (`${mode}: ${describe}`), e.g.
   * `/home/me/.kube/config (context kind-dev) → https://127.0.0.1:6443`, `service account → https://10.96.0.1`.
   */
  describe: string;
  /** Something the operator should see at startup (e.g. the fallback to dry-run). */
  warning?: string;
}

/** What connectKubernetes reads from the machine; injectable for tests. */
export interface ConnectDeps extends ResolveDeps {
  /** Clock for token re-reads. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** A projected service-account token rotates; re-read it at most this often (what client-go does). */
export const TOKEN_REREAD_MS = 60_000;

/** What the connect step reads or uses; injectable for tests. */
export interface ConnectOptions {
  /** Per-request timeout towards the API server. */
  timeoutMs: number;
  readFile?: (path: string) => string;
  /** Clock for token re-reads. */
  now?: () => number;
  fetch?: typeof fetch;
}

/**
 * Builds the client for a resolved target: resolves the kubeconfig credentials (reads certificate files, runs
 * exec and auth-provider plugins) and returns the KubeConnection. Errors name files and users, never credentials.
 *
 * @example
 * const kube = await connectResolved(await resolveKubernetes(config.kubernetes), { timeoutMs: config.kubernetes.requestTimeout });
 */
export async function connectResolved(target: KubeTarget, options: ConnectOptions): Promise<KubeConnection> {
  const io = {
    readFile: options.readFile ?? ((p: string) => readRegularText(p, MAX_KUBE_FILE_BYTES)),
    now: options.now ?? Date.now,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  };
  const warning = target.warning === undefined ? {} : { warning: target.warning };
  switch (target.mode) {
    case 'dry-run':
      return { mode: 'dry-run', client: createDryRunClient(), describe: target.describe, ...warning };
    case 'in-cluster': {
      const client = createKubeClient({
        server: target.server,
        caPem: target.caPem,
        token: rotatingTokenFile(target.tokenPath, io.readFile, io.now),
        timeoutMs: io.timeoutMs,
        fetch: io.fetch,
      });
      return { mode: 'in-cluster', client, describe: `service account → ${client.target}`, ...warning };
    }
    case 'kubeconfig':
      return { ...(await kubeconfigClient(target, io)), ...warning };
  }
}

/**
 * Resolves `kubernetes` (resolveKubernetes) and connects (connectResolved) in one step.
 *
 * @example
 * const kube = await connectKubernetes(config.kubernetes);
 * if (kube.warning) log.warn(kube.warning);
 * log.info(`kubernetes ${kube.mode}: ${kube.describe}`);
 */
export async function connectKubernetes(
  // How to reach the API server; what fluxgate does there (Events) is not this module's concern.
  config: Omit<KubernetesConfig, 'events'>,
  env: Record<string, string | undefined> = process.env,
  deps: ConnectDeps = {},
): Promise<KubeConnection> {
  const target = await resolveKubernetes(config, env, deps);
  const readFile = deps.readFile;
  return connectResolved(target, { timeoutMs: config.requestTimeout, ...(readFile ? { readFile: (p: string) => readFile(p, MAX_KUBE_FILE_BYTES) } : {}), now: deps.now, fetch: deps.fetch });
}

interface ConnectIo {
  readFile: (path: string) => string;
  now: () => number;
  fetch?: typeof fetch;
  timeoutMs: number;
}

/**
 * A token read from a file and re-read at most every `maxAgeMs` (projected service-account tokens rotate). If a
 * re-read fails, the previous token is kept until the next attempt.
 */
export function rotatingTokenFile(path: string, readFile: (p: string) => string, now: () => number = Date.now, maxAgeMs = TOKEN_REREAD_MS): () => Promise<string | undefined> {
  let token: string | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  return async () => {
    if (token !== undefined && now() - readAt < maxAgeMs) return token;
    try {
      token = readFile(path).trim() || undefined;
    } catch (e) {
      if (token === undefined) throw new Error(`cannot read token file ${path}: ${readFailure(e)}`);
    }
    readAt = now();
    return token;
  };
}

async function kubeconfigClient(target: Extract<KubeTarget, { mode: 'kubeconfig' }>, io: ConnectIo): Promise<KubeConnection> {
  const { kc, cluster, user, path } = target;
  const ctxName = kc.getCurrentContext();
  const where = `kubeconfig ${path}, context ${ctxName}`;
  const describe = (server: string) => `${path} (context ${ctxName}) → ${server}`;

  if (cluster.server.startsWith('http:')) {
    const client = createKubeClient({ server: cluster.server, proxy: cluster.proxyUrl, timeoutMs: io.timeoutMs, fetch: io.fetch });
    return { mode: 'kubeconfig', client, describe: describe(client.target) };
  }

  // Resolve the credentials once: CA and client certificate (files or inline data), token, exec/auth-provider output.
  const resolve = async () => {
    const opts: Record<string, any> = { headers: {} };
    await kc.applyToHTTPSOptions(opts as never);
    return opts;
  };
  let opts: Record<string, any>;
  try {
    opts = await resolve();
  } catch (e) {
    throw new Error(`${where}: cannot resolve the credentials of user "${user?.name ?? ''}": ${firstLine(e)}`);
  }

  const pem = (v: unknown) => (v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  const bearer = (o: Record<string, any>) => {
    const h = o.headers?.Authorization ?? o.headers?.authorization;
    return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
  };
  let token: (() => Promise<string | undefined>) | undefined;
  if (target.tokenFile) {
    token = rotatingTokenFile(target.tokenFile, io.readFile, io.now);
  } else if (user?.exec || user?.authProvider) {
    // Plugins refresh their tokens; ask the library each time (it caches until expiry).
    token = async () => bearer(await resolve());
  } else {
    const fixed = bearer(opts);
    if (fixed) token = async () => fixed;
  }

  let client: KubeClient;
  try {
    client = createKubeClient({
      server: cluster.server,
      caPem: pem(opts.ca),
      certPem: pem(opts.cert),
      keyPem: pem(opts.key),
      skipTlsVerify: cluster.skipTLSVerify,
      tlsServerName: cluster.tlsServerName,
      proxy: cluster.proxyUrl,
      token,
      timeoutMs: io.timeoutMs,
      fetch: io.fetch,
    });
  } catch (e) {
    throw new Error(`${where}: ${firstLine(e)}`);
  }
  return { mode: 'kubeconfig', client, describe: describe(client.target) };
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
