/**
 * Decides how fluxgate will reach Kubernetes (kubernetes.mode) from the environment and files alone: which
 * kubeconfig, context, cluster and user, or the pod's service account, or dry-run. No network, no exec or
 * auth-provider plugin: this is what `validate` checks, and the first step of connecting (kube-connect.ts).
 */
import { ipFamily } from '../core/index.ts';
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Cluster, KubeConfig, User } from '@kubernetes/client-node';
import { MAX_KUBECONFIG_BYTES, MAX_KUBE_FILE_BYTES } from '../config/index.ts';
import type { KubernetesConfig } from '../config/index.ts';
import { readFailure, readRegularText } from '../core/index.ts';

/** What resolving reads from the machine; injectable for tests. */
export interface ResolveDeps {
  /** Whether a file exists (of any kind: one that is not a regular file is refused when read, saying what it is). */
  fileExists?: (path: string) => boolean;
  /** A file's text, refused past `maxBytes` or when it is not a regular file (readRegularText). */
  readFile?: (path: string, maxBytes: number) => string;
  /** Where the pod's service account is mounted. */
  serviceAccountDir?: string;
  /** How messages name the kubeconfig and context settings (default the config keys; a command names its flags). */
  names?: { kubeconfig: string; context: string };
}

const CONFIG_NAMES = { kubeconfig: 'kubernetes.kubeconfig', context: 'kubernetes.context' };

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export const DRY_RUN_FALLBACK_WARNING =
  'no Kubernetes cluster configured (no in-cluster service account, no $KUBECONFIG, no ~/.kube/config): running in dry-run, reconcile requests are logged, not sent';

const defaultFileExists = (path: string) => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** A problem found while resolving `kubernetes` from files alone; `field` is the config key that led to it. */
export class KubeSetupError extends Error {
  override name = 'KubeSetupError';
  constructor(
    message: string,
    readonly field: 'mode' | 'kubeconfig' | 'context',
  ) {
    super(message);
  }
}

/**
 * How fluxgate will reach Kubernetes, decided from the environment and files only: no network, no exec or
 * auth-provider plugin run. `describe` follows the mode, as in KubeConnection.
 */
export type KubeTarget =
  | { mode: 'dry-run'; describe: string; warning?: string }
  | { mode: 'in-cluster'; describe: string; warning?: string; server: string; caPem?: string; tokenPath: string }
  | {
      mode: 'kubeconfig';
      describe: string;
      warning?: string;
      path: string;
      kc: KubeConfig;
      cluster: Cluster;
      user?: User;
      /** `token-file` of the user, absolute, re-read as it rotates. */
      tokenFile?: string;
    };

/**
 * Resolves `kubernetes.mode` from files and environment alone (what `validate` checks, and the first step of
 * connectKubernetes):
 * - `auto`: an explicit `kubeconfig` path; else in-cluster when `KUBERNETES_SERVICE_HOST` is set and the
 *   service-account token exists; else the first existing file of `$KUBECONFIG`, else `~/.kube/config`; else
 *   dry-run with a warning.
 * - `kubeconfig`: that file (or `$KUBECONFIG`, `~/.kube/config`); an error if none exists.
 * - `in-cluster`: the pod's service account; an error outside a pod.
 * - `dry-run`: nothing is sent.
 * A kubeconfig must parse, its context must name a cluster and user that exist, and the files it names must
 * exist. `~` is `env.HOME`. Throws KubeSetupError naming files and contexts, never credentials.
 *
 * @example
 * const target = await resolveKubernetes(config.kubernetes, process.env);
 * console.log(`kubernetes ${target.mode}: ${target.describe}`);
 */
export async function resolveKubernetes(
  // How to reach the API server; what fluxgate does there (Events) is not this module's concern.
  config: Omit<KubernetesConfig, 'events'>,
  env: Record<string, string | undefined> = process.env,
  deps: ResolveDeps = {},
): Promise<KubeTarget> {
  const io = {
    fileExists: deps.fileExists ?? defaultFileExists,
    readFile: deps.readFile ?? readRegularText,
    saDir: deps.serviceAccountDir ?? SERVICE_ACCOUNT_DIR,
    names: deps.names ?? CONFIG_NAMES,
  };
  const home = env.HOME || undefined;
  const expand = (p: string) => (home && (p === '~' || p.startsWith('~/')) ? join(home, p.slice(1)) : p);
  const context = config.context || undefined;

  switch (config.mode) {
    case 'dry-run':
      return dryRun();
    case 'in-cluster':
      return inCluster(env, io);
    case 'kubeconfig': {
      const explicit = config.kubeconfig ? expand(config.kubeconfig) : undefined;
      const found = findKubeconfig(explicit, env, home, io);
      if (!found.path) throw new KubeSetupError(`kubernetes.mode is kubeconfig but no kubeconfig file was found (looked at: ${found.looked.join(', ') || 'nothing: $KUBECONFIG and $HOME are unset'})`, 'mode');
      return fromKubeconfig(found.path, context, explicit ? 'kubeconfig' : 'mode', io);
    }
    case 'auto':
    default: {
      if (config.kubeconfig) {
        const found = findKubeconfig(expand(config.kubeconfig), env, home, io);
        return fromKubeconfig(found.path ?? '', context, 'kubeconfig', io);
      }
      if (env.KUBERNETES_SERVICE_HOST && io.fileExists(join(io.saDir, 'token'))) return inCluster(env, io);
      const found = findKubeconfig(undefined, env, home, io);
      if (found.path) return fromKubeconfig(found.path, context, 'mode', io);
      const unusable = env.KUBECONFIG ? ` ($KUBECONFIG=${env.KUBECONFIG} names no existing file)` : '';
      return { ...dryRun(), warning: DRY_RUN_FALLBACK_WARNING + unusable };
    }
  }
}

function dryRun(): KubeTarget {
  return { mode: 'dry-run', describe: 'reconcile requests are logged, not sent' };
}

interface FileIo {
  fileExists: (path: string) => boolean;
  readFile: (path: string, maxBytes: number) => string;
  saDir: string;
  names: { kubeconfig: string; context: string };
}

/** An explicit path (returned even if missing, so the caller can say so), else `$KUBECONFIG`'s first existing file, else ~/.kube/config. */
function findKubeconfig(explicit: string | undefined, env: Record<string, string | undefined>, home: string | undefined, io: Pick<FileIo, 'fileExists' | 'names'>) {
  const { fileExists } = io;
  if (explicit) {
    if (!fileExists(explicit)) throw new KubeSetupError(`kubeconfig file ${explicit} not found (${io.names.kubeconfig})`, 'kubeconfig');
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

function inCluster(env: Record<string, string | undefined>, io: FileIo): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  if (!host) throw new KubeSetupError('kubernetes.mode is in-cluster but KUBERNETES_SERVICE_HOST is not set (is fluxgate running in a pod?)', 'mode');
  const tokenPath = join(io.saDir, 'token');
  const caPath = join(io.saDir, 'ca.crt');
  if (!io.fileExists(tokenPath)) {
    throw new KubeSetupError(`in-cluster: service-account token ${tokenPath} not found (is automountServiceAccountToken disabled?)`, 'mode');
  }
  let caPem: string | undefined;
  try {
    caPem = io.fileExists(caPath) ? io.readFile(caPath, MAX_KUBE_FILE_BYTES) : undefined;
  } catch (e) {
    throw new KubeSetupError(`in-cluster: cannot read the service-account CA ${caPath}: ${readFailure(e)}`, 'mode');
  }
  try {
    io.readFile(tokenPath, MAX_KUBE_FILE_BYTES);
  } catch (e) {
    throw new KubeSetupError(`in-cluster: cannot read the service-account token ${tokenPath}: ${readFailure(e)}`, 'mode');
  }
  const server = `https://${ipFamily(host) === 6 ? `[${host}]` : host}:${port}`;
  return { mode: 'in-cluster', describe: `service account → ${server}`, server, caPem, tokenPath };
}

/**
 * Loads, checks and selects the context of a kubeconfig without resolving credentials. `field` is the config
 * key a problem with the file itself is reported at (`kubeconfig` when the path was given, else `mode`).
 */
async function fromKubeconfig(path: string, context: string | undefined, field: 'kubeconfig' | 'mode', io: FileIo): Promise<KubeTarget> {
  const fail = (message: string, at: KubeSetupError['field'] = field) => new KubeSetupError(message, at);
  let text: string;
  try {
    text = io.readFile(path, MAX_KUBECONFIG_BYTES);
  } catch (e) {
    throw fail(`cannot read kubeconfig ${path}: ${readFailure(e)}`);
  }
  let raw: any;
  try {
    raw = parseKubeconfigYaml(path, text);
  } catch (e) {
    throw fail((e as Error).message);
  }
  const tokenFile = userTokenFiles(raw);

  // Loaded only when a kubeconfig is used: the library (with its generated API) is most of fluxgate's idle memory.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    // Hand client-node the parsed document (JSON is YAML) without `token-file`: it would read that file once,
    // relative to the working directory; fluxgate re-reads it relative to the kubeconfig (as kubectl does).
    kc.loadFromString(JSON.stringify(raw));
    kc.makePathsAbsolute(dirname(path));
  } catch (e) {
    // First line only: js-yaml appends a snippet of the file, which could hold a credential.
    throw fail(`kubeconfig ${path} is invalid: ${String((e as Error).message).split('\n')[0]}`);
  }

  const names = kc.getContexts().map((c) => c.name);
  const available = names.length ? names.join(', ') : '(none)';
  const contextField = context ? 'context' : field;
  if (context) {
    if (!kc.getContextObject(context)) throw fail(`context "${context}" not found in kubeconfig ${path}; available contexts: ${available}`, 'context');
    kc.setCurrentContext(context);
  } else if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) {
    const current = kc.getCurrentContext();
    throw fail(`kubeconfig ${path} has ${current ? `current-context "${current}", which is not defined` : 'no current-context'}; set ${io.names.context} to one of: ${available}`);
  }
  const ctx = kc.getContextObject(kc.getCurrentContext())!;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw fail(`context "${ctx.name}" in kubeconfig ${path} names cluster "${ctx.cluster}", which is not defined`, contextField);
  const user = kc.getCurrentUser() ?? undefined;
  if (ctx.user && !user) throw fail(`context "${ctx.name}" in kubeconfig ${path} names user "${ctx.user}", which is not defined`, contextField);
  const where = `kubeconfig ${path}, context ${ctx.name}`;
  const warnings: string[] = [];
  if (user?.impersonateUser) warnings.push(`${where}: impersonation (as: ${user.impersonateUser}) is not supported; requests are sent as user "${user.name}" itself`);
  if (cluster.proxyUrl && !/^https?:/.test(cluster.proxyUrl)) throw fail(`${where}: proxy-url ${cluster.proxyUrl.replace(/\/\/[^@/]*@/, '//')} is not supported (only http and https proxies)`, contextField);
  if (user?.username) throw fail(`${where}: user "${user.name}" uses username/password (basic auth), which Kubernetes removed in 1.19; use a token or a client certificate`, contextField);

  const file = user ? tokenFile.get(user.name) : undefined;
  const tokenPath = file === undefined ? undefined : isAbsolute(file) ? file : join(dirname(path), file);
  let used: { cluster: Cluster; user?: User; tokenFile?: string } = { cluster, user, tokenFile: tokenPath };
  if (cluster.server.startsWith('http:')) {
    // Plain HTTP (e.g. `kubectl proxy`): credentials would travel in clear text, so none are sent (or read).
    warnings.push(`${where}: ${cluster.server} is plain HTTP; no credentials are sent`);
  } else {
    used = credentialFiles(kc, cluster, user, tokenPath, io, (message) => fail(`${where}: ${message}`, contextField));
  }
  return {
    mode: 'kubeconfig',
    describe: `${path} (context ${ctx.name}) → ${cluster.server}`,
    ...(warnings.length ? { warning: warnings.join('; ') } : {}),
    path,
    kc,
    cluster: used.cluster,
    user: used.user,
    tokenFile: used.tokenFile,
  };
}

/**
 * The files the context's credentials come from, checked now rather than when the first patch is due: each must
 * exist and be readable (a regular file within MAX_KUBE_FILE_BYTES); the certificates and keys are inlined (below).
 */
function credentialFiles(kc: KubeConfig, cluster: Cluster, user: User | undefined, tokenPath: string | undefined, io: FileIo, fail: (message: string) => KubeSetupError): { cluster: Cluster; user?: User; tokenFile?: string } {
  const named: [string, string | undefined][] = [
    ['certificate-authority', cluster.caFile],
    ['client-certificate', user?.certFile],
    ['client-key', user?.keyFile],
    ['token-file', tokenPath],
  ];
  for (const [key, namedPath] of named) {
    if (namedPath !== undefined && !io.fileExists(namedPath)) throw fail(`${key} ${namedPath} not found`);
  }
  const read = (key: string, namedPath: string) => {
    try {
      return io.readFile(namedPath, MAX_KUBE_FILE_BYTES);
    } catch (e) {
      throw fail(`cannot read ${key} ${namedPath}: ${readFailure(e)}`);
    }
  };
  if (tokenPath !== undefined) read('token-file', tokenPath);
  const inlined = inlineNamedFiles(kc, cluster, user, read);
  return { ...inlined, tokenFile: tokenPath ?? inlined.tokenFile };
}

/**
 * The context's cluster and user with the files they name read by fluxgate (regular files, bounded) and handed to
 * client-node inline, in `kc` too: client-node would otherwise open them itself, with a blocking, unbounded read,
 * each time credentials are resolved. A file-based auth provider's token file becomes fluxgate's own re-read
 * token file.
 */
function inlineNamedFiles(kc: KubeConfig, cluster: Cluster, user: User | undefined, read: (key: string, path: string) => string): { cluster: Cluster; user?: User; tokenFile?: string } {
  const base64 = (key: string, path: string) => Buffer.from(read(key, path)).toString('base64');
  const inlinedCluster: Cluster = cluster.caFile ? { ...cluster, caFile: undefined, caData: base64('certificate-authority', cluster.caFile) } : cluster;
  let inlinedUser = user;
  let tokenFile: string | undefined;
  if (user) {
    inlinedUser = { ...user };
    if (user.certFile) inlinedUser = { ...inlinedUser, certFile: undefined, certData: base64('client-certificate', user.certFile) };
    if (user.keyFile) inlinedUser = { ...inlinedUser, keyFile: undefined, keyData: base64('client-key', user.keyFile) };
    const provider = user.authProvider as { config?: Record<string, unknown> } | undefined;
    const config = provider?.config ?? {};
    if (typeof config.tokenFile === 'string' && config.tokenFile !== '') {
      tokenFile = config.tokenFile;
      read('auth-provider tokenFile', tokenFile);
      inlinedUser = { ...inlinedUser, authProvider: undefined };
    } else if (typeof config['idp-certificate-authority'] === 'string' && config['idp-certificate-authority'] !== '') {
      const data = base64('idp-certificate-authority', config['idp-certificate-authority']);
      inlinedUser = { ...inlinedUser, authProvider: { ...provider, config: { ...config, 'idp-certificate-authority': undefined, 'idp-certificate-authority-data': data } } };
    }
  }
  kc.clusters = kc.clusters.map((entry) => (entry === cluster ? inlinedCluster : entry));
  if (user && inlinedUser) kc.users = kc.users.map((entry) => (entry === user ? inlinedUser! : entry));
  return { cluster: inlinedCluster, user: inlinedUser, ...(tokenFile !== undefined ? { tokenFile } : {}) };
}

/**
 * Parses with the `yaml` package first for an error with line and column and no snippet of the file. Loaded here,
 * when a kubeconfig is read, not by every run (a dry-run gateway never needs it).
 */
function parseKubeconfigYaml(path: string, text: string): any {
  const { LineCounter, parseDocument } = require('yaml') as typeof import('yaml');
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

