/**
 * Resolves `{ env }`, `{ file }` and `{ value }` secret references. Messages name the variable or file,
 * never the value.
 */
import { readFileSync } from 'node:fs';
import type { ProviderSecrets } from '../plugins/plugin-api.ts';
import type { Config, SecretRef } from './schema.ts';
import { ConfigError } from './validate.ts';
import { formatPath, type ConfigIssue, type YamlSource } from './yaml-source.ts';

export interface SecretSources {
  env: Record<string, string | undefined>;
  readFile(path: string): string;
}

export const processSecretSources: SecretSources = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
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
    throw new Error(`cannot read secret file ${ref.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  // Files written by `echo` or mounted from a Kubernetes Secret often end with a newline that is not part of it.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new Error(`secret file ${ref.file} is empty`);
  return value;
}

/** Every provider's secrets, by provider name; throws ConfigError with positions for every missing one. */
export function resolveProviderSecrets(config: Config, source: YamlSource, sources: SecretSources): Map<string, ProviderSecrets> {
  const issues: ConfigIssue[] = [];
  const result = new Map<string, ProviderSecrets>();
  config.providers.forEach((provider, index) => {
    const secrets: ProviderSecrets = {};
    for (const field of ['secret', 'signingSecret'] as const) {
      const ref = provider[field];
      if (!ref) continue;
      try {
        secrets[field] = resolveSecret(ref, sources);
      } catch (error) {
        const path = ['providers', index, field];
        issues.push({ ...source.locate(path), path: formatPath(path), message: (error as Error).message });
      }
    }
    result.set(provider.name, secrets);
  });
  if (issues.length > 0) throw new ConfigError(source.file, issues);
  return result;
}
