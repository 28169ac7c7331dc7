/**
 * `fluxgate register`: makes the Git hosts' webhooks match the config (see src/register/), and `serve --register`
 * / `register.onStart`: the same once at start-up, logged, never fatal. The config is loaded as `validate
 * --file-only` loads it (no Kubernetes needed), then the register tokens and the provider secrets are resolved.
 */
import { dirname, resolve } from 'node:path';
import { readSecretFile } from '../config/index.ts';
import { ConfigError } from '../config/index.ts';
import { formatPath } from '../config/index.ts';
import type { ProviderConfig } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { BuiltinProvider } from '../provider-kit/index.ts';
import { hostFetch, type RateLimitWait } from '../register/index.ts';
import { gatewayPrefix, registerJobs, type RegisterJob } from '../register/index.ts';
import { exitCode, renderJson, renderTable, summarize } from '../register/index.ts';
import { syncHooks, type SyncRow } from '../register/index.ts';
import { reportConfigError } from './validate.ts';
import { loadConfigFile } from '../app/index.ts';
import { DISCOVERED_KINDS } from '../discovery/index.ts';
import { listObjects } from '../discovery/index.ts';
import { defaultApiVersion } from '../core/index.ts';
import { connectResolved } from '../kube/index.ts';
import { discoveredScopes } from '../register/index.ts';
import type { WatchedObject } from '../kube/index.ts';
import { checkLogLevel, configPath, type CommandContext } from './command-context.ts';

export interface RegisterOptions {
  /** The config file. */
  path: string;
  builtins: readonly BuiltinProvider[];
  env: Record<string, string | undefined>;
  /** Print the plan, change nothing. */
  dryRun?: boolean;
  /** Remove hooks that point at this gateway but that the config no longer wants. */
  prune?: boolean;
  /** Send the configured secrets to existing hooks too. */
  rotateSecret?: boolean;
  output?: 'table' | 'json';
  /** Reads secret files (default: regular files of at most 64 KiB, as serve reads them). */
  readFile?: (path: string) => string;
}

/** Time and the network, injected: tests wait out a Retry-After without sleeping. */
export interface RegisterDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
  fetch?: (request: Request) => Promise<Response>;
}

export const systemRegisterDeps: RegisterDeps = { now: () => Date.now(), sleep: (ms) => new Promise((done) => setTimeout(done, ms)) };

type Prepared = { jobs: RegisterJob[]; prefix: string } | { error: ConfigError } | { failed: string } | { nothing: string };

/** Loads the file and resolves what the selected providers' registration needs. */
async function prepare(options: RegisterOptions, select: (provider: ProviderConfig) => boolean): Promise<Prepared> {
  let loaded;
  try {
    loaded = await loadConfigFile({ path: options.path, builtins: options.builtins, env: options.env, fileOnly: true });
  } catch (error) {
    if (error instanceof ConfigError) return { error };
    throw error;
  }
  const { config, source, catalog } = loaded;
  if (!config.providers.some((provider) => provider.register !== undefined)) {
    return { nothing: `${options.path}: no provider has a register block, so there is nothing to register (README › Registering webhooks)` };
  }
  const baseDir = dirname(resolve(options.path));
  const readFile = options.readFile ?? readSecretFile;
  const { jobs, problems } = registerJobs(config, catalog, { env: options.env, readFile: (file) => readFile(resolve(baseDir, file)) }, select);
  if (problems.length > 0) {
    return { error: new ConfigError(options.path, problems.map(({ path, message, atKey }) => ({ ...source.locate(path, atKey), path: formatPath(path), message }))) };
  }
  if (jobs.some((job) => job.discovered)) {
    const listed = await listDiscovered(options);
    if ('error' in listed) return listed.error instanceof ConfigError ? { error: listed.error } : { failed: listed.error.message };
    for (const job of jobs) if (job.discovered) job.scopes = discoveredScopes(listed.objects, job);
  }
  return { jobs, prefix: gatewayPrefix(config.server.publicUrl!) };
}

/**
 * What discovery would watch, read once from every cluster the config reaches: the repositories of
 * `repositories: discovered`.
 */
async function listDiscovered(options: RegisterOptions): Promise<{ objects: WatchedObject[] } | { error: ConfigError | Error }> {
  let loaded;
  try {
    loaded = await loadConfigFile({ path: options.path, builtins: options.builtins, env: options.env });
  } catch (error) {
    if (error instanceof ConfigError) return { error };
    throw error;
  }
  const { config } = loaded;
  const kinds = (config.discovery.kinds ?? DISCOVERED_KINDS).filter((kind) => kind === 'GitRepository' || kind === 'Application').map((kind) => ({ apiVersion: defaultApiVersion(kind)!, kind }));
  const objects: WatchedObject[] = [];
  for (const target of loaded.clusters ?? [{ kube: loaded.kube }]) {
    const connection = await connectResolved(target.kube, { timeoutMs: config.kubernetes.requestTimeout });
    if (connection.mode === 'dry-run') return { error: new Error('repositories: discovered reads the Flux sources from a cluster, and none is configured (kubernetes.mode resolves to dry-run)') };
    try {
      objects.push(...(await listObjects(connection.client.api, kinds, config.discovery.namespaces)));
    } catch (error) {
      return { error: new Error(`could not list the Flux sources for repositories: discovered: ${(error as Error).message}`) };
    }
  }
  return { objects };
}

function waitLine(wait: RateLimitWait): string {
  const seconds = Math.ceil(wait.waitMs / 1000);
  return `rate-limited (${wait.reason}): waiting ${seconds}s before ${wait.request} (attempt ${wait.attempt} of ${wait.maxAttempts})`;
}

function sync(jobs: RegisterJob[], prefix: string, options: { dryRun: boolean; prune: boolean; rotateSecret: boolean }, deps: RegisterDeps, onWait: (wait: RateLimitWait) => void, onRow?: (row: SyncRow) => void) {
  // One transport per job, pinned to its API: its token and secrets go nowhere else.
  const sendFor = (job: RegisterJob) => hostFetch({ origin: job.apiUrl, fetch: deps.fetch, now: deps.now, sleep: deps.sleep, onWait });
  return syncHooks(jobs, { ...options, gatewayPrefix: prefix, hostFor: (job) => job.registration.client({ apiUrl: job.apiUrl, token: job.token, send: sendFor(job) }), onRow });
}

/**
 * Runs `fluxgate register` and resolves to its exit code: 0 in sync, 1 a config problem or a failed scope, 2 changes
 * planned (`--dry-run`).
 *
 * @example
 * const code = await runRegister({ path: 'fluxgate.yaml', builtins, env: process.env, dryRun: true }, systemRegisterDeps, console.log, console.error);
 */
export async function runRegister(options: RegisterOptions, deps: RegisterDeps, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const prepared = await prepare(options, () => true);
  if ('error' in prepared) {
    reportConfigError(prepared.error, err);
    return 1;
  }
  if ('failed' in prepared) {
    err(`fluxgate register: ${prepared.failed}`);
    return 1;
  }
  if ('nothing' in prepared) {
    err(prepared.nothing);
    return 1;
  }
  const flags = { dryRun: options.dryRun === true, prune: options.prune === true, rotateSecret: options.rotateSecret === true };
  const rows = await sync(prepared.jobs, prepared.prefix, flags, deps, (wait) => err(waitLine(wait)));
  if (options.output === 'json') out(renderJson(prepared.jobs, rows, flags));
  else for (const line of renderTable(prepared.jobs, rows, flags)) out(line);
  return exitCode(summarize(rows), flags.dryRun);
}

/**
 * `serve --register` (`all`) or `register.onStart`: reconciles the hooks once, logging each row and the summary.
 * Never throws: a failure is logged and serving goes on.
 *
 * @example
 * void registerOnStart({ path, builtins, env: process.env, all: flags.register === true, log }, systemRegisterDeps);
 */
export async function registerOnStart(options: Omit<RegisterOptions, 'dryRun' | 'output'> & { all: boolean; log: Logger }, deps: RegisterDeps): Promise<void> {
  const { log } = options;
  try {
    const prepared = await prepare(options, (provider) => options.all || provider.register?.onStart === true);
    if ('nothing' in prepared || ('jobs' in prepared && prepared.jobs.length === 0)) {
      if (options.all) log.warn('serve --register: no provider has a register block, nothing to register');
      else log.debug('webhook registration: no provider asks for it at start-up (register.onStart)');
      return;
    }
    if ('error' in prepared) {
      log.error('webhook registration skipped: config problems', { problems: prepared.error.message.split('\n') });
      return;
    }
    if ('failed' in prepared) {
      log.error('webhook registration skipped', { error: prepared.failed });
      return;
    }
    const flags = { dryRun: false, prune: options.prune === true, rotateSecret: options.rotateSecret === true };
    const rows = await sync(prepared.jobs, prepared.prefix, flags, deps, (wait) => log.warn('webhook registration rate-limited', { ...wait }), (row) => {
      const fields = { provider: row.provider, scope: `${row.scope.kind} ${row.scope.name}`, action: row.action, hookId: row.hookId, url: row.url, changes: row.fields, note: row.note };
      if (row.error !== undefined) log.error('webhook registration failed', { ...fields, error: row.error });
      else log.info(row.action === 'unchanged' ? 'webhook in sync' : `webhook ${row.action === 'create' ? 'created' : row.action === 'update' ? 'updated' : 'removed'}`, fields);
    });
    log.info('webhook registration done', { ...summarize(rows) });
  } catch (error) {
    log.error('webhook registration failed', { error: (error as Error).message });
  }
}

export interface RegisterFlags {
  config?: string;
  dryRun?: boolean;
  prune?: boolean;
  rotateSecret?: boolean;
  output: 'table' | 'json';
}

/** `fluxgate register` from its command line. */
export async function registerCommand(flags: RegisterFlags, context: CommandContext): Promise<number> {
  checkLogLevel(context);
  const path = configPath(context, flags.config);
  return runRegister({ path, builtins: await context.builtins(), env: context.io.env, ...flags }, systemRegisterDeps, context.io.out, context.io.err);
}
