/**
 * Resolves `{ env }`, `{ file }` and `{ value }` secret references. Messages name the variable or file,
 * never the value.
 */
import { readFailure, readRegularText } from '../core/index.ts';
import { MAX_SECRET_FILE_BYTES } from './limits.ts';
import type { RuleIssue } from './rule-issue.ts';
import type { Config, SecretRef } from './schema.ts';

/** Secret fields a provider may read, resolved from `{ env }`, `{ file }` or `{ value }` in the config. */
export interface ProviderSecrets {
  secret?: string;
  signingSecret?: string;
}

/** The config key of each secret's retiring predecessor. */
export const PREVIOUS_SECRET_FIELDS = { secret: 'previousSecret', signingSecret: 'previousSigningSecret' } as const;

export interface SecretSources {
  env: Record<string, string | undefined>;
  readFile(path: string): string;
}

/** A secret file's text: a regular file (after symlinks) of at most MAX_SECRET_FILE_BYTES. */
export const readSecretFile = (path: string): string => readRegularText(path, MAX_SECRET_FILE_BYTES);

export const processSecretSources: SecretSources = {
  env: process.env,
  readFile: readSecretFile,
};

/** The secret's value; throws an Error saying which source is missing or empty. */
export function resolveSecret(ref: SecretRef, sources: SecretSources): string {
  if ('value' in ref) return ref.value;
  if ('env' in ref) {
    const value = sources.env[ref.env];
    if (value === undefined || value === '') throw new Error(`environment variable ${ref.env} is not set`);
    return value;
  }
  let text: string;
  try {
    text = sources.readFile(ref.file);
  } catch (error) {
    throw new Error(`cannot read secret file ${ref.file}: ${readFailure(error)}`);
  }
  // Files written by `echo` or mounted from a Kubernetes Secret often end with a newline that is not part of it.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new Error(`secret file ${ref.file} is empty`);
  return value;
}

/**
 * Where a secret comes from and what the operator should change there, for messages (never the value).
 *
 * @example
 * secretOrigin({ env: 'GITHUB_WEBHOOK_SECRET' });
 * // { name: 'environment variable GITHUB_WEBHOOK_SECRET', fix: 'set GITHUB_WEBHOOK_SECRET to the real secret' }
 */
export function secretOrigin(ref: SecretRef): { name: string; fix: string } {
  if ('env' in ref) return { name: `environment variable ${ref.env}`, fix: `set ${ref.env} to the real secret` };
  if ('file' in ref) return { name: `secret file ${ref.file}`, fix: `put the real secret in ${ref.file}` };
  return { name: 'the value written in the config', fix: 'use { env: NAME } or { file: PATH } holding the real secret' };
}

/**
 * The admin token (`admin.token`), or undefined when none is configured; a problem when it cannot be read or
 * `check` refuses it.
 */
export function resolveAdminToken(config: Config, sources: SecretSources, check: (value: string, ref: SecretRef) => string | undefined): { token?: string; problems: RuleIssue[] } {
  const ref = config.admin.token;
  if (!ref) return { problems: [] };
  const path = ['admin', 'token'];
  try {
    const token = resolveSecret(ref, sources);
    const refused = check(token, ref);
    return refused === undefined ? { token, problems: [] } : { problems: [{ path, message: refused }] };
  } catch (error) {
    return { problems: [{ path, message: (error as Error).message }] };
  }
}

/**
 * Every provider's secrets, by provider name, and a problem for each secret that is missing or that `check`
 * refuses (check returns a sentence that must not contain the value). `previous`: the secrets being retired
 * (`previousSecret`, `previousSigningSecret`), under the field they stand in for, for providers that have one.
 *
 * @example
 * const { secrets, problems } = resolveProviderSecrets(config, { env: process.env, readFile }, (value) =>
 *   value === 'change-me' ? 'holds a placeholder' : undefined);
 */
export function resolveProviderSecrets(
  config: Config,
  sources: SecretSources,
  check: (value: string, ref: SecretRef, providerIndex: number, field: keyof ProviderSecrets) => string | undefined = () => undefined,
): { secrets: Map<string, ProviderSecrets>; previous: Map<string, ProviderSecrets>; problems: RuleIssue[] } {
  const problems: RuleIssue[] = [];
  const secrets = new Map<string, ProviderSecrets>();
  const previous = new Map<string, ProviderSecrets>();
  config.providers.forEach((provider, index) => {
    const resolved: ProviderSecrets = {};
    const retiring: ProviderSecrets = {};
    for (const field of ['secret', 'signingSecret'] as const) {
      for (const [key, into] of [[field, resolved], [PREVIOUS_SECRET_FIELDS[field], retiring]] as const) {
        const ref = provider[key];
        if (!ref) continue;
        const path = ['providers', index, key];
        try {
          into[field] = resolveSecret(ref, sources);
        } catch (error) {
          problems.push({ path, message: (error as Error).message });
          continue;
        }
        const refused = check(into[field], ref, index, field);
        if (refused !== undefined) problems.push({ path, message: refused });
      }
    }
    secrets.set(provider.name, resolved);
    if (Object.keys(retiring).length > 0) previous.set(provider.name, retiring);
  });
  return { secrets, previous, problems };
}
