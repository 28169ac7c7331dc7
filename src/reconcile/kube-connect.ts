/**
 * Decides how fluxgate reaches Kubernetes (kubernetes.mode) and builds the KubeClient for it.
 *
 * @kubernetes/client-node is used only to load a kubeconfig and resolve its credentials (CA, client certificate,
 * token, exec/auth-provider plugins); the HTTP is Bun's fetch in kube-client.ts, because client-node's HTTP
 * layer ignores the CA, insecure-skip-tls-verify and client certificates under Bun.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { LineCounter, parseDocument } from 'yaml';
import type { KubernetesConfig } from '../config/schema.ts';
import { createDryRunClient } from './dry-run-client.ts';
import { createKubeClient, type KubeClient } from './kube-client.ts';

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
export interface ConnectDeps {
  /** Whether a regular file exists. */
  fileExists?: (path: string) => boolean;
  readFile?: (path: string) => string;
  /** Where the pod's service account is mounted. */
  serviceAccountDir?: string;
  /** Clock for token re-reads. */
  now?: () => number;
  fetch?: typeof fetch;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A projected service-account token rotates; re-read it at most this often (what client-go does). */
export const TOKEN_REREAD_MS = 60_000;

export const DRY_RUN_FALLBACK_WARNING =
  'no Kubernetes cluster configured (no in-cluster service account, no $KUBECONFIG, no ~/.kube/config): running in dry-run, reconcile requests are logged, not sent';

const defaultFileExists = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/**
 * Resolves `kubernetes.mode`:
 * - `auto`: an explicit `kubeconfig` path; else in-cluster when `KUBERNETES_SERVICE_HOST` is set and the
 *   service-account token exists; else the first existing file of `$KUBECONFIG`, else `~/.kube/config`; else
 *   dry-run with a warning.
 * - `kubeconfig`: that file (or `$KUBECONFIG`, `~/.kube/config`); an error if none exists.
 * - `in-cluster`: the pod's service account; an error outside a pod.
 * - `dry-run`: nothing is sent.
 * `~` is `env.HOME`. Errors name files and contexts, never credentials.
 *
 * @example
 * const kube = await connectKubernetes(config.kubernetes);
 * if (kube.warning) log.warn(kube.warning);
 * log.info(`kubernetes ${kube.mode}: ${kube.describe}`);
 */
export async function connectKubernetes(
  config: KubernetesConfig,
  env: Record<string, string | undefined> = process.env,
  deps: ConnectDeps = {},
): Promise<KubeConnection> {
  const io = {
    fileExists: deps.fileExists ?? defaultFileExists,
    readFile: deps.readFile ?? ((p: string) => readFileSync(p, 'utf8')),
    saDir: deps.serviceAccountDir ?? SERVICE_ACCOUNT_DIR,
    now: deps.now ?? Date.now,
    fetch: deps.fetch,
    timeoutMs: config.requestTimeout,
  };
  const home = env.HOME || undefined;
  const expand = (p: string) => (home && (p === '~' || p.startsWith('~/')) ? join(home, p.slice(1)) : p);

  switch (config.mode) {
    case 'dry-run':
      return dryRun();
    case 'in-cluster':
      return inCluster(env, io);
    case 'kubeconfig': {
      const found = findKubeconfig(config.kubeconfig ? expand(config.kubeconfig) : undefined, env, home, io.fileExists);
      if (!found.path) throw new Error(`kubernetes.mode is kubeconfig but no kubeconfig file was found (looked at: ${found.looked.join(', ') || 'nothing: $KUBECONFIG and $HOME are unset'})`);
      return fromKubeconfig(found.path, config.context || undefined, io);
    }
    case 'auto':
    default: {
      if (config.kubeconfig) {
        const found = findKubeconfig(expand(config.kubeconfig), env, home, io.fileExists);
        return fromKubeconfig(found.path ?? '', config.context || undefined, io);
      }
      if (env.KUBERNETES_SERVICE_HOST && io.fileExists(join(io.saDir, 'token'))) return inCluster(env, io);
      const found = findKubeconfig(undefined, env, home, io.fileExists);
      if (found.path) return fromKubeconfig(found.path, config.context || undefined, io);
      const unusable = env.KUBECONFIG ? ` ($KUBECONFIG=${env.KUBECONFIG} names no existing file)` : '';
      return { ...dryRun(), warning: DRY_RUN_FALLBACK_WARNING + unusable };
    }
  }
}

function dryRun(): KubeConnection {
  return { mode: 'dry-run', client: createDryRunClient(), describe: 'reconcile requests are logged, not sent' };
}

interface Io {
  fileExists: (path: string) => boolean;
  readFile: (path: string) => string;
  saDir: string;
  now: () => number;
  fetch?: typeof fetch;
  timeoutMs: number;
}

/** An explicit path (returned even if missing, so the caller can say so), else `$KUBECONFIG`'s first existing file, else ~/.kube/config. */
function findKubeconfig(explicit: string | undefined, env: Record<string, string | undefined>, home: string | undefined, fileExists: (p: string) => boolean) {
  if (explicit) {
    if (!fileExists(explicit)) throw new Error(`kubeconfig file ${explicit} not found (kubernetes.kubeconfig)`);
    return { path: explicit, looked: [explicit] };
  }
  const looked: string[] = [];
  for (const p of (env.KUBECONFIG ?? '').split(':').filter(Boolean)) {
    looked.push(p);
    if (fileExists(p)) return { path: p, looked };
  }
  if (home) {
    const p = join(home, '.kube', 'config');
    looked.push(p);
    if (fileExists(p)) return { path: p, looked };
  }
  return { path: undefined, looked };
}

function inCluster(env: Record<string, string | undefined>, io: Io): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  if (!host) throw new Error('kubernetes.mode is in-cluster but KUBERNETES_SERVICE_HOST is not set (is fluxgate running in a pod?)');
  const tokenPath = join(io.saDir, 'token');
  const caPath = join(io.saDir, 'ca.crt');
  if (!io.fileExists(tokenPath)) {
    throw new Error(`in-cluster: service-account token ${tokenPath} not found (is automountServiceAccountToken disabled?)`);
  }
  const caPem = io.fileExists(caPath) ? io.readFile(caPath) : undefined;
  const client = createKubeClient({
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    caPem,
    token: rotatingTokenFile(tokenPath, io.readFile, io.now),
    timeoutMs: io.timeoutMs,
    fetch: io.fetch,
  });
  return { mode: 'in-cluster', client, describe: `service account → ${client.target}` };
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
      if (token === undefined) throw new Error(`cannot read token file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'read failed'}`);
    }
    readAt = now();
    return token;
  };
}

async function fromKubeconfig(path: string, context: string | undefined, io: Io): Promise<KubeConnection> {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (e) {
    throw new Error(`cannot read kubeconfig ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const raw = parseKubeconfigYaml(path, text);
  const tokenFile = userTokenFiles(raw);

  const kc = new KubeConfig();
  try {
    // Hand client-node the parsed document (JSON is YAML) without `token-file`: it would read that file once,
    // relative to the working directory; fluxgate re-reads it relative to the kubeconfig (as kubectl does).
    kc.loadFromString(JSON.stringify(raw));
    kc.makePathsAbsolute(dirname(path));
  } catch (e) {
    // First line only: js-yaml appends a snippet of the file, which could hold a credential.
    throw new Error(`kubeconfig ${path} is invalid: ${String((e as Error).message).split('\n')[0]}`);
  }

  const names = kc.getContexts().map((c) => c.name);
  const available = names.length ? names.join(', ') : '(none)';
  if (context) {
    if (!kc.getContextObject(context)) throw new Error(`context "${context}" not found in kubeconfig ${path}; available contexts: ${available}`);
    kc.setCurrentContext(context);
  } else if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) {
    const current = kc.getCurrentContext();
    throw new Error(
      `kubeconfig ${path} has ${current ? `current-context "${current}", which is not defined` : 'no current-context'}; set kubernetes.context to one of: ${available}`,
    );
  }
  const ctx = kc.getContextObject(kc.getCurrentContext())!;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`context "${ctx.name}" in kubeconfig ${path} names cluster "${ctx.cluster}", which is not defined`);
  const user = kc.getCurrentUser();
  if (ctx.user && !user) throw new Error(`context "${ctx.name}" in kubeconfig ${path} names user "${ctx.user}", which is not defined`);
  const where = `kubeconfig ${path}, context ${ctx.name}`;
  const describe = (target: string) => `${path} (context ${ctx.name}) → ${target}`;
  const warnings: string[] = [];
  if (user?.impersonateUser) warnings.push(`${where}: impersonation (as: ${user.impersonateUser}) is not supported; requests are sent as user "${user.name}" itself`);
  if (cluster.proxyUrl && !/^https?:/.test(cluster.proxyUrl)) throw new Error(`${where}: proxy-url ${cluster.proxyUrl.replace(/\/\/[^@/]*@/, '//')} is not supported (only http and https proxies)`);

  if (cluster.server.startsWith('http:')) {
    // Plain HTTP (e.g. `kubectl proxy`): credentials would travel in clear text, so none are sent.
    const client = createKubeClient({ server: cluster.server, proxy: cluster.proxyUrl, timeoutMs: io.timeoutMs, fetch: io.fetch });
    warnings.push(`${where}: ${client.target} is plain HTTP; no credentials are sent`);
    return { mode: 'kubeconfig', client, describe: describe(client.target), warning: warnings.join('; ') };
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
  if (opts.auth) throw new Error(`${where}: user "${user?.name}" uses username/password (basic auth), which Kubernetes removed in 1.19; use a token or a client certificate`);

  const pem = (v: unknown) => (v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  const bearer = (o: Record<string, any>) => {
    const h = o.headers?.Authorization ?? o.headers?.authorization;
    return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
  };
  let token: (() => Promise<string | undefined>) | undefined;
  const file = user ? tokenFile.get(user.name) : undefined;
  if (file) {
    token = rotatingTokenFile(isAbsolute(file) ? file : join(dirname(path), file), io.readFile, io.now);
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
  return { mode: 'kubeconfig', client, describe: describe(client.target), ...(warnings.length ? { warning: warnings.join('; ') } : {}) };
}

/** Parses with the `yaml` package first for an error with line and column and no snippet of the file. */
function parseKubeconfigYaml(path: string, text: string): any {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  const err = doc.errors[0];
  if (err) {
    const at = lines.linePos(err.pos[0]);
    // Drop quoted fragments of the source from the message: they could be part of a credential.
    const what = err.message.replace(/:\s*".*$/s, '');
    throw new Error(`kubeconfig ${path} is not valid YAML: ${what} (line ${at.line}, column ${at.col})`);
  }
  const raw = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`kubeconfig ${path} is not a kubeconfig (expected a YAML mapping with clusters, users and contexts)`);
  return raw;
}

/**
 * Removes `token-file` from the users of `raw` (in place) and returns user name → token file, for users
 * without a literal `token` (which wins, as in kubectl).
 */
function userTokenFiles(raw: any): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of Array.isArray(raw?.users) ? raw.users : []) {
    const user = entry?.user;
    if (!user || typeof user !== 'object' || !('token-file' in user)) continue;
    const f = user['token-file'];
    delete user['token-file'];
    if (typeof f === 'string' && f && !user.token && typeof entry.name === 'string') files.set(entry.name, f);
  }
  return files;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
