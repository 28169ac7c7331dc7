/**
 * The config loader `serve` and `validate` share, so that a file `validate` accepts is a file `serve` starts
 * with: size, YAML, schema, rules and plugins, then everything outside the file that needs no network —
 * secrets (resolved, placeholders refused unless nothing reaches a cluster, each plugin's own format check),
 * TLS certificate and key, and how Kubernetes will be reached (kubeconfig parsed, context resolved; no exec
 * plugin run). Every problem is reported at once as `file:line:col path: message`.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MAX_CONFIG_BYTES, MAX_SECRET_FILE_BYTES, MAX_TLS_FILE_BYTES } from '../config/index.ts';
import { isPlaceholderSecret } from '../config/index.ts';
import { checkConfigRules, type RuleIssue } from '../config/index.ts';
import { checkProviders } from '../provider-kit/index.ts';
import { PREVIOUS_SECRET_FIELDS, resolveAdminToken, resolveProviderSecrets, resolveRelaySecrets, secretOrigin } from '../config/index.ts';
import type { SecretRef } from '../config/index.ts';
import { loadTlsFiles, type TlsPem } from '../config/index.ts';
import { ConfigError, parseConfig, type CheckedConfig } from '../config/index.ts';
import { formatPath } from '../config/index.ts';
import { optionsOf } from '../provider-kit/index.ts';
import { builtinCatalog, loadCatalog, type Catalog } from '../provider-kit/index.ts';
import type { PreparedProvider } from '../pipeline/index.ts';
import { createMatchCompiler, type MatchCompiler } from '../pipeline/index.ts';
import { ConfigProblem } from '../provider-kit/index.ts';
import { type BuiltinProvider } from '../provider-kit/index.ts';
import { type ProviderSecrets } from '../config/index.ts';
import { verifyRefusesOthers } from '../provider-kit/index.ts';
import { providerKit } from '../provider-kit/index.ts';
import { defaultApiVersion, installedInvocation, type Invocation } from '../core/index.ts';
import { KubeSetupError, resolveKubernetes, type KubeTarget } from '../kube/index.ts';
import { notRegular, readBounded, readFailure, readRegularText } from '../core/index.ts';

export interface LoadOptions {
  /** The config file. */
  path: string;
  /** The providers compiled into fluxgate (plugins/index.ts), handed in by the command. */
  builtins: readonly BuiltinProvider[];
  /** Secrets' `env:` and Kubernetes discovery (`KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_HOST`) read this. */
  env: Record<string, string | undefined>;
  /** `--dry-run`: nothing is sent to Kubernetes, whatever `kubernetes.mode` says. */
  dryRun?: boolean;
  /**
   * `validate --file-only`: check the file alone (size, YAML, schema, rules, plugins), not the secrets, TLS
   * files and kubeconfig it names — for a config checked away from where it runs (CI, another machine).
   */
  fileOnly?: boolean;
  /**
   * `validate` of a config from a pipe (`validate <(kustomize build …)`): the config may be a FIFO, read to its
   * end. Off for `serve`, whose reloads must never wait on a pipe.
   */
  configFromPipe?: boolean;
  /** Reads secret and TLS files, at most `maxBytes` (default: regular files only, readRegularText). */
  readFile?: (path: string, maxBytes: number) => string;
  /** Where a pod's service account is mounted (tests). */
  serviceAccountDir?: string;
  /** How the user ran fluxgate, for messages that name a command (default: the installed `fluxgate`). */
  invocation?: Invocation;
  /**
   * A reload's plugins: those of `previous` are kept for unchanged files; with `loadNew` false (a file watch
   * triggered it), no plugin code is loaded and what changed in pluginsDir is listed in `catalog.pending`.
   */
  plugins?: { previous: Catalog; loadNew: boolean };
}

/** What the file alone says (validate --file-only). */
export interface LoadedFile extends CheckedConfig {
  /** Provider types: the built-ins and pluginsDir's. */
  catalog: Catalog;
}

/**
 * What `serve` runs on. Not the YAML source: it exists to place problems at their line and column, and a loaded
 * config has none (it held about 1 KB per target, 10 MiB with 10,000 targets, for as long as the config served).
 */
export interface LoadedConfig extends Omit<LoadedFile, 'source'> {
  /** Each provider's resolved secrets, by provider name. */
  secrets: Map<string, ProviderSecrets>;
  /** Each provider's codec, options and the key its type prepared from the secrets, by provider name. */
  providers: Map<string, PreparedProvider>;
  /** How Kubernetes will be reached (connect with connectResolved); with `clusters:`, the first cluster's. */
  kube: KubeTarget;
  /** With `clusters:`: how each cluster will be reached, in config order. */
  clusters?: { name: string; kube: KubeTarget }[];
  /** `server.tls` as PEM, checked to be a certificate and its key. */
  tls?: TlsPem;
  /** `admin.token`, resolved, when one is configured. */
  adminToken?: string;
  /** `relay.subscribers[].token`, resolved, by subscriber name (an edge). */
  relayTokens?: Map<string, string>;
  /** `upstream.token` resolved, and `upstream.caFile`'s PEM (an agent). */
  upstream?: { token: string; caPem?: string };
  /**
   * Every file this load read besides the config (secret, TLS and plugin files), absolute: what a reload
   * watches, and what its fingerprint covers.
   */
  files: string[];
  /** A digest of everything read (the config text, those files and the environment's secrets): equal digests, equal configs. */
  fingerprint: string;
  /** What compiled every target's match to check it: serving takes the compiled matchers from it (compileProviders). */
  matchCompiler: MatchCompiler;
}

/**
 * Loads and checks a config file completely, without touching the network; throws ConfigError listing
 * every problem.
 *
 * @example
 * const loaded = await loadConfigFile({ path: 'fluxgate.yaml', env: process.env });
 * console.log(loaded.kube.mode, loaded.config.providers.length);
 */
export async function loadConfigFile(options: LoadOptions & { fileOnly?: false }): Promise<LoadedConfig>;
export async function loadConfigFile(options: LoadOptions & { fileOnly: true }): Promise<LoadedFile>;
export async function loadConfigFile(options: LoadOptions): Promise<LoadedFile | LoadedConfig>;
export async function loadConfigFile(options: LoadOptions): Promise<LoadedFile | LoadedConfig> {
  const { path, env } = options;
  const invocation = options.invocation ?? installedInvocation;
  const text = readConfigText(path, options.configFromPipe === true, invocation);
  const checked = parseConfig(text, path);
  const { config, source } = checked;
  const { files, fingerprint, readFile } = readTracked(text, options.readFile ?? readRegularText);
  // Relative paths in the config (secret files, TLS files, kubeconfig, pluginsDir) are relative to the file.
  const baseDir = dirname(resolve(path));
  const fromConfig = (file: string) => resolve(baseDir, file);
  const problems: RuleIssue[] = [];

  // pluginsDir is itself config, so plugins are loaded between the schema check and the rules that name types.
  let catalog: Catalog;
  try {
    catalog = await loadCatalog(options.builtins, providerKit, config.pluginsDir, baseDir, options.plugins ?? {});
  } catch (error) {
    problems.push({ path: ['pluginsDir'], message: (error as Error).message });
    catalog = builtinCatalog(options.builtins, providerKit);
  }
  const matchCompiler = createMatchCompiler();
  problems.push(...checkConfigRules(config, { defaultApiVersion, compileMatch: matchCompiler.compile }), ...checkProviders(config, catalog));
  const located = () => problems.map(({ path: at, message, atKey }) => ({ ...source.locate(at, atKey), path: formatPath(at), message }));
  if (options.fileOnly) {
    if (problems.length > 0) throw new ConfigError(path, located());
    return { ...checked, catalog };
  }

  // `~/…` is the user's home (resolveKubernetes expands it), anything else is relative to the config.
  const kubeconfigPath = (file: string | undefined) => (file && !file.startsWith('~') ? fromConfig(file) : file);
  const { kube, clusters } = await resolveTargets(config, options, kubeconfigPath, problems);

  // Placeholder secrets are public: only acceptable when nothing would be sent to a cluster.
  const sendsNothing = clusters ? clusters.every((cluster) => cluster.kube.mode === 'dry-run') : kube?.mode === 'dry-run';
  const { secrets, previous, problems: secretProblems } = resolveProviderSecrets(config, { env, readFile: (file) => readFile(fromConfig(file), MAX_SECRET_FILE_BYTES) }, (value, ref, index, field) => {
    if (!sendsNothing && isPlaceholderSecret(value)) return placeholderMessage(ref, kube, config.kubernetes.mode, invocation.serve(path, '--dry-run'));
    return undefined;
  });
  problems.push(...secretProblems);
  // The admin token guards the status page and the API: a placeholder there is as public as anywhere.
  const admin = resolveAdminToken(config, { env, readFile: (file) => readFile(fromConfig(file), MAX_SECRET_FILE_BYTES) }, (value, ref) => (isPlaceholderSecret(value) ? placeholderMessage(ref, kube, config.kubernetes.mode, invocation.serve(path, '--dry-run')) : undefined));
  problems.push(...admin.problems);
  const relay = resolveRelaySecrets(config, { env, readFile: (file) => readFile(fromConfig(file), MAX_SECRET_FILE_BYTES) }, sendsNothing);
  problems.push(...relay.problems);
  const upstreamCa = readUpstreamCa(config, (file) => readFile(fromConfig(file), MAX_TLS_FILE_BYTES), problems);
  // Every provider of a known type is prepared with the secrets that resolved, so its problems join the others.
  const providers = prepareProviders(config, catalog, secrets, previous, problems);
  problems.push(...(await checkPluginVerifiers(config, catalog, providers, secrets)));

  let tls: TlsPem | undefined;
  if (config.server.tls) {
    const loaded = loadTlsFiles(config.server.tls, fromConfig, (file) => readFile(file, MAX_TLS_FILE_BYTES));
    problems.push(...loaded.problems);
    tls = loaded.pem;
  }

  if (problems.length > 0 || kube === undefined || (clusters && clusters.length !== config.clusters?.length)) {
    throw new ConfigError(path, located());
  }
  for (const file of catalog.files) files.add(file);
  fingerprint.update(`\0${catalog.versions.join(',')}\0${JSON.stringify([...secrets])}\0${JSON.stringify([...previous])}\0${admin.token ?? ''}\0${JSON.stringify([...relay.subscribers])}\0${relay.upstream ?? ''}`);
  const relayed = { ...(config.relay ? { relayTokens: relay.subscribers } : {}), ...(relay.upstream !== undefined ? { upstream: { token: relay.upstream, ...(upstreamCa !== undefined ? { caPem: upstreamCa } : {}) } } : {}) };
  return { config, catalog, secrets, providers, kube, ...(clusters ? { clusters } : {}), tls, adminToken: admin.token, ...relayed, files: [...files], fingerprint: fingerprint.digest('hex'), matchCompiler };
}

/** Reads files for the load: each one read is recorded (what a reload watches) and goes into the fingerprint. */
function readTracked(text: string, read: (file: string, maxBytes: number) => string) {
  const files = new Set<string>();
  const fingerprint = createHash('sha256').update(text);
  const readFile = (file: string, maxBytes: number) => {
    files.add(file);
    const content = read(file, maxBytes);
    fingerprint.update(`\0${file}\0${content}`);
    return content;
  };
  return { files, fingerprint, readFile };
}

/** How Kubernetes will be reached: each of `clusters:` (the first one as `kube`), or the one `kubernetes:` connection. */
async function resolveTargets(
  config: LoadedFile['config'],
  options: LoadOptions,
  kubeconfigPath: (file: string | undefined) => string | undefined,
  problems: RuleIssue[],
): Promise<{ kube: KubeTarget | undefined; clusters: { name: string; kube: KubeTarget }[] | undefined }> {
  if (config.clusters) {
    const clusters = await resolveClusters(config, options, kubeconfigPath, problems);
    return { kube: clusters[0]?.kube, clusters };
  }
  try {
    const kube = await resolveKubernetes(
      { ...config.kubernetes, mode: options.dryRun ? 'dry-run' : config.kubernetes.mode, kubeconfig: kubeconfigPath(config.kubernetes.kubeconfig) },
      options.env,
      { serviceAccountDir: options.serviceAccountDir },
    );
    return { kube, clusters: undefined };
  } catch (error) {
    if (!(error instanceof KubeSetupError)) throw error;
    problems.push({ path: ['kubernetes', error.field], message: error.message });
    return { kube: undefined, clusters: undefined };
  }
}

/**
 * How each of `clusters:` will be reached (files only, as for `kubernetes:`); a problem is reported at the
 * cluster's own key. `--dry-run` and `kubernetes.mode: dry-run` make every cluster dry-run.
 */
async function resolveClusters(
  config: LoadedFile['config'],
  options: LoadOptions,
  kubeconfigPath: (file: string | undefined) => string | undefined,
  problems: RuleIssue[],
): Promise<{ name: string; kube: KubeTarget }[]> {
  const resolved: { name: string; kube: KubeTarget }[] = [];
  const dryRun = options.dryRun === true || config.kubernetes.mode === 'dry-run';
  for (const [index, cluster] of (config.clusters ?? []).entries()) {
    if ((cluster.inCluster === true) === (cluster.kubeconfig !== undefined)) continue; // neither or both: a rule reports it
    const mode = dryRun ? 'dry-run' : cluster.inCluster === true ? 'in-cluster' : 'kubeconfig';
    try {
      const kube = await resolveKubernetes(
        { mode, kubeconfig: kubeconfigPath(cluster.kubeconfig), context: cluster.context, requestTimeout: config.kubernetes.requestTimeout },
        options.env,
        { serviceAccountDir: options.serviceAccountDir },
      );
      resolved.push({ name: cluster.name, kube });
    } catch (error) {
      if (!(error instanceof KubeSetupError)) throw error;
      const field = error.field === 'context' ? 'context' : cluster.inCluster === true ? 'inCluster' : 'kubeconfig';
      const message = error.message.replace('(kubernetes.kubeconfig)', `(clusters[${index}].kubeconfig)`).replace('kubernetes.mode is in-cluster', 'inCluster is true');
      problems.push({ path: ['clusters', index, field], message });
    }
  }
  return resolved;
}

/**
 * Runs each type's `prepare` on its provider's secrets and options, once; a value the type cannot use is a
 * problem at its field (the message never quotes a secret: one that does is replaced).
 */
function prepareProviders(config: LoadedFile['config'], catalog: Catalog, secrets: Map<string, ProviderSecrets>, previous: Map<string, ProviderSecrets>, problems: RuleIssue[]): Map<string, PreparedProvider> {
  const prepared = new Map<string, PreparedProvider>();
  // A field with a problem already (an unset variable) is not reported twice.
  const reported = new Set(problems.map((problem) => formatPath(problem.path)));
  config.providers.forEach((provider, index) => {
    const codec = catalog.get(provider.type);
    if (!codec) return;
    const resolved = secrets.get(provider.name) ?? {};
    const options = optionsOf(codec, provider.options);
    const verifies = codec.keyless === true || Object.values(resolved).some((value) => value !== undefined);
    const retiring = previous.get(provider.name);
    try {
      const key = codec.prepare ? codec.prepare(resolved, options) : resolved;
      // The retiring secrets in place of the ones they precede, the others as they are (GitLab's token beside its signing key).
      const previousKey = retiring && prepareRetiring(codec, { ...resolved, ...retiring }, options);
      prepared.set(provider.name, { codec, options, key, verifies, ...(previousKey !== undefined ? { previousKey } : {}) });
    } catch (error) {
      const problem = error instanceof RetiringProblem ? error.cause : error;
      const named = problem instanceof ConfigProblem ? problem.field : (codec.secretFields.find((name) => resolved[name] !== undefined) ?? 'options');
      const field = error instanceof RetiringProblem && (named === 'secret' || named === 'signingSecret') ? PREVIOUS_SECRET_FIELDS[named] : named;
      const message = problem instanceof Error ? problem.message : String(problem);
      const quotesSecret = [...Object.values(resolved), ...Object.values(retiring ?? {})].some((value) => value !== undefined && message.includes(value));
      const path = ['providers', index, ...field.split('.')];
      if (reported.has(formatPath(path))) return;
      problems.push({ path, message: quotesSecret ? `type "${codec.id}" refuses ${field} (its reason is not shown because it quotes the secret)` : message });
    }
  });
  return prepared;
}

/** A failure of `prepare` on the retiring secrets: reported at previousSecret / previousSigningSecret. */
class RetiringProblem extends Error {
  constructor(override readonly cause: unknown) {
    super('retiring secret refused');
  }
}

function prepareRetiring(codec: PreparedProvider['codec'], secrets: ProviderSecrets, options: unknown): unknown {
  try {
    return codec.prepare ? codec.prepare(secrets, options) : secrets;
  } catch (error) {
    throw new RetiringProblem(error);
  }
}

/**
 * Each configured provider of a plugin type that verifies with a secret, checked with the plugin's own `sign`: a
 * verify that accepts an unsigned delivery, or one signed with another secret, is refused at the provider's type.
 */
async function checkPluginVerifiers(config: LoadedFile['config'], catalog: Catalog, providers: Map<string, PreparedProvider>, secrets: Map<string, ProviderSecrets>): Promise<RuleIssue[]> {
  const problems: RuleIssue[] = [];
  for (const [index, provider] of config.providers.entries()) {
    const plugin = catalog.plugins.get(provider.type);
    const prepared = providers.get(provider.name);
    if (!plugin || !prepared?.verifies || prepared.codec.keyless || prepared.codec.secretFields.length === 0) continue;
    const refused = await verifyRefusesOthers(prepared.codec, secrets.get(provider.name) ?? {}, prepared.options, prepared.key);
    if (refused !== undefined) problems.push({ path: ['providers', index, 'type'], message: `type "${provider.type}" (plugin ${plugin.path}) is refused: ${refused}` });
  }
  return problems;
}

/** `upstream.caFile`: a PEM certificate the edge's is checked with. */
function readUpstreamCa(config: LoadedFile['config'], read: (file: string) => string, problems: RuleIssue[]): string | undefined {
  const file = config.upstream?.caFile;
  if (file === undefined) return undefined;
  try {
    const pem = read(file);
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${file} holds no PEM certificate`);
    return pem;
  } catch (error) {
    problems.push({ path: ['upstream', 'caFile'], message: (error as Error).message.startsWith(file) ? (error as Error).message : `cannot read ${file}: ${readFailure(error)}` });
    return undefined;
  }
}

/** `dryRun`: serve without a cluster, as the user can run it from where they are (`npm start -- --dry-run` under npm start). */
function placeholderMessage(ref: SecretRef, kube: KubeTarget | undefined, mode: string, dryRun: string): string {
  const origin = secretOrigin(ref);
  const reaches = kube ? `kubernetes ${kube.mode}: ${kube.describe}` : `kubernetes.mode ${mode}`;
  return `${origin.name} holds a placeholder, not a secret, and fluxgate would send reconcile requests (${reaches}): ${origin.fix}, or try fluxgate without a cluster: ${dryRun}`;
}

/**
 * The config text, refused before it is parsed when it is larger than MAX_CONFIG_BYTES or not a regular file
 * (after symlinks): opened without blocking, so a FIFO cannot hold a start or a reload in `open`. With
 * `fromPipe` (validate), a FIFO is read to its end, bounded the same way.
 */
function readConfigText(path: string, fromPipe: boolean, invocation: Invocation): string {
  // About the file as a whole: no line or column in it is to blame.
  const refuse = (message: string) => new ConfigError(path, [{ line: 1, col: 1, path: '', message, wholeFile: true }]);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | (fromPipe && isFifo(path) ? 0 : constants.O_NONBLOCK));
  } catch (error) {
    throw refuse(unreadableConfig(error, invocation));
  }
  const tooLarge = () =>
    refuse(`the config is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, the most fluxgate reads (10,000 targets are about 2.4 MB); split what generates it, or use fewer, broader targets (matchLabels, globs)`);
  try {
    const stats = fstatSync(fd);
    const refused = fromPipe && stats.isFIFO() ? undefined : notRegular(stats);
    if (refused !== undefined) throw refuse(`cannot read config: ${refused}`);
    if (stats.size > MAX_CONFIG_BYTES) throw tooLarge();
    // Sized to the file (a byte more, to see it end), grown if it grows while being read, never past the limit:
    // a buffer of the limit itself was 4 MiB touched by every start, whatever the config's size.
    const bytes = readBounded(fd, stats.size, MAX_CONFIG_BYTES);
    if (bytes === undefined) throw tooLarge();
    return bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw refuse(`cannot read config: ${readFailure(error)}`);
  } finally {
    closeSync(fd);
  }
}

/** Why the config cannot be opened, and what to do about it. */
function unreadableConfig(error: unknown, invocation: Invocation): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `cannot read config: no such file; give the path of your config (--config FILE), or write a starter one with ${invocation.command('init --provider github')}`;
  if (code === 'EACCES' || code === 'EPERM') return `cannot read config: permission denied; make it readable by the user fluxgate runs as`;
  return `cannot read config: ${readFailure(error)}`;
}

/** Whether `path` is a FIFO (after symlinks); false when it cannot be looked at (the open says why). */
function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}
