/**
 * `fluxgate retry`: lists the reconcile requests that failed for good (kept by the journal), and owes chosen ones
 * again, through the running gateway's admin listener (`server.adminAddress`, with `admin.token` when one is set):
 * the same action as the status page's buttons.
 */
import { dirname, resolve } from 'node:path';
import type { BuiltinProvider } from '../provider-kit/index.ts';
import { installedInvocation, type Invocation } from '../core/index.ts';
import { readSecretFile, resolveSecret } from '../config/index.ts';
import { loadConfigFile } from '../app/index.ts';
import { configPath, type CommandContext } from './command-context.ts';

export interface RetryOptions {
  path: string;
  builtins: readonly BuiltinProvider[];
  env: Record<string, string | undefined>;
  /** Failures to owe again, by the number `fluxgate retry` lists. */
  seqs: readonly number[];
  all: boolean;
  /** The admin listener's base URL (default: from server.adminAddress). */
  admin?: string;
  /** How the user ran fluxgate, for the commands the output suggests (default: the installed `fluxgate`). */
  invocation?: Invocation;
}

export interface RetryDeps {
  fetch(request: Request): Promise<Response>;
}

interface ListedFailure {
  seq: number;
  object: string;
  cluster?: string;
  outcome: string;
  error: string;
  failedAt: string;
  deliveries: string[];
}

/** The admin listener as a client reaches it: a wildcard address is reached on loopback. */
export function adminBaseUrl(adminAddress: string): string {
  const match = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(adminAddress);
  const host = match?.[1] ?? '';
  const port = match?.[2] ?? '9293';
  const reachable = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${reachable}:${port}`;
}

/**
 * @example
 * await runRetry({ path: 'fluxgate.yaml', builtins, env: process.env, seqs: [], all: true }, { fetch }, console.log, console.error); // "owed again: 3"
 */
export async function runRetry(options: RetryOptions, deps: RetryDeps, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const { config } = await loadConfigFile({ path: options.path, builtins: options.builtins, env: options.env, fileOnly: true });
  const invocation = options.invocation ?? installedInvocation;
  const base = (options.admin ?? adminBaseUrl(config.server.adminAddress)).replace(/\/+$/, '');
  let token: string | undefined;
  if (config.admin.token) {
    const baseDir = dirname(resolve(options.path));
    token = resolveSecret(config.admin.token, { env: options.env, readFile: (file) => readSecretFile(resolve(baseDir, file)) });
  }
  const headers: Record<string, string> = token !== undefined ? { authorization: `Bearer ${token}` } : {};
  const ask = async (method: string, path: string): Promise<Response | undefined> => {
    try {
      return await deps.fetch(new Request(`${base}${path}`, { method, headers, redirect: 'manual' }));
    } catch (error) {
      err(`fluxgate retry: cannot reach the admin listener at ${base} (${(error as Error).message}): is fluxgate running, and is server.adminAddress (or --admin) right?`);
      return undefined;
    }
  };
  if (options.seqs.length === 0 && !options.all) {
    const response = await ask('GET', '/api/failures');
    if (!response) return 1;
    if (!response.ok) return answered(response, err);
    const { failures } = (await response.json()) as { failures: ListedFailure[] };
    if (failures.length === 0) out('no failed reconcile requests are kept');
    for (const failure of failures) out(`${failure.seq}\t${failure.failedAt}\t${failure.cluster ? `${failure.cluster}: ` : ''}${failure.object}\t${failure.outcome}: ${failure.error}\t${failure.deliveries.join(', ')}`);
    if (failures.length > 0) out(`retry some with: ${invocation.again('SEQ...')}, or all with: ${invocation.again('--all')}`);
    return 0;
  }
  const query = options.seqs.map((seq) => `seq=${seq}`).join('&');
  const response = await ask('POST', `/api/failures/retry${query ? `?${query}` : ''}`);
  if (!response) return 1;
  if (!response.ok) return answered(response, err);
  const { retried } = (await response.json()) as { retried: number };
  out(`owed again: ${retried}`);
  if (options.seqs.length > retried) {
    err(`fluxgate retry: ${options.seqs.length - retried} of the numbers given are not kept failures (list them with: ${invocation.command('retry')})`);
    return 1;
  }
  return 0;
}

async function answered(response: Response, err: (line: string) => void): Promise<number> {
  const text = (await response.text()).slice(0, 300);
  const hint = response.status === 401 ? ' (set admin.token in the config this command reads)' : '';
  err(`fluxgate retry: the admin listener answered ${response.status}${hint}: ${text}`);
  return 1;
}

export interface RetryFlags {
  config?: string;
  all?: boolean;
  admin?: string;
}

/** `fluxgate retry [SEQ...]` from its command line: the failures by number, or --all. */
export async function retryCommand(seqs: string[], flags: RetryFlags, context: CommandContext): Promise<number> {
  const numbers = seqs.map(Number);
  if (numbers.some((seq) => !Number.isSafeInteger(seq) || seq < 1)) context.usage(`SEQ: the number of a failure, as ${context.invocation.command('retry')} lists them`);
  if (flags.all && numbers.length > 0) context.usage('give SEQ numbers or --all, not both');
  const path = configPath(context, flags.config);
  return runRetry({ path, builtins: await context.builtins(), env: context.io.env, seqs: numbers, all: flags.all === true, ...(flags.admin ? { admin: flags.admin } : {}), invocation: context.invocation }, { fetch: (request) => fetch(request) }, context.io.out, context.io.err);
}
