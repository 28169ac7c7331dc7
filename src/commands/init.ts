/**
 * `fluxgate init`: a starter config for the chosen Git hosts, strong random secrets in a separate env file
 * (mode 0600), and what to paste into each host's webhook settings — fluxgate's counterpart of
 * `flux create receiver`. The config names each secret by variable (`secret: { env: … }`), so the same env file
 * serves systemd (EnvironmentFile=), `docker run --env-file` and `kubectl create secret --from-env-file`.
 * Secrets are written to the env file only, never printed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { closestName } from '../config/index.ts';
import { installedInvocation, type Invocation } from '../core/index.ts';
import type { CommandContext } from './command-context.ts';

/** How each Git host takes a webhook: where to add it, and what its form calls each field. Guidance, not wire format. */
interface GitHost {
  title: string;
  /** The variable holding the secret in the env file (and named by the config). */
  variable: string;
  where: string;
  /** The form's rows after the URL: [label, value]; `{secret}` stands for the secret's variable. */
  fields: [string, string][];
}

const GIT_HOSTS: Record<string, GitHost> = {
  github: {
    title: 'GitHub (repository or organization)',
    variable: 'GITHUB_WEBHOOK_SECRET',
    where: 'Settings → Webhooks → Add webhook',
    fields: [['Payload URL', '{url}'], ['Content type', 'application/json'], ['Secret', '{secret}'], ['Events', 'Just the push event']],
  },
  gitlab: {
    title: 'GitLab (project or group)',
    variable: 'GITLAB_WEBHOOK_TOKEN',
    where: 'Settings → Webhooks → Add new webhook',
    fields: [['URL', '{url}'], ['Secret token', '{secret}'], ['Trigger', 'Push events, Tag push events']],
  },
  gitea: {
    title: 'Gitea / Forgejo',
    variable: 'GITEA_WEBHOOK_SECRET',
    where: 'Settings → Webhooks → Add webhook → Gitea (Forgejo)',
    fields: [['Target URL', '{url}'], ['HTTP method / content type', 'POST, application/json'], ['Secret', '{secret}'], ['Trigger on', 'Push events']],
  },
  gogs: {
    title: 'Gogs',
    variable: 'GOGS_WEBHOOK_SECRET',
    where: 'Settings → Webhooks → Add webhook → Gogs',
    fields: [['Payload URL', '{url}'], ['Content type', 'application/json'], ['Secret', '{secret}'], ['Events', 'Just the push event']],
  },
  bitbucket: {
    title: 'Bitbucket Cloud',
    variable: 'BITBUCKET_WEBHOOK_SECRET',
    where: 'Repository settings → Webhooks → Add webhook',
    fields: [['URL', '{url}'], ['Secret', '{secret}'], ['Triggers', 'Repository push']],
  },
  'bitbucket-server': {
    title: 'Bitbucket Data Center',
    variable: 'BITBUCKET_SERVER_WEBHOOK_SECRET',
    where: 'Repository settings → Webhooks → Create webhook',
    fields: [['URL', '{url}'], ['Secret', '{secret}'], ['Events', 'Repository: Push']],
  },
};

/** The provider types `init` writes a config for. */
export const initTypes = Object.keys(GIT_HOSTS);

export interface InitOptions {
  /** Provider types, e.g. ['github', 'gitlab']. */
  providers: string[];
  /** Where to write fluxgate.yaml and fluxgate.env. */
  dir: string;
  /** The repository the starter target matches (slug or URL). */
  repository: string;
  branch: string;
  /** The public base URL the hosts post to, e.g. https://hooks.example.com. */
  url?: string;
  /** Overwrite existing files (the hosts must then get the new secrets). */
  force?: boolean;
  /** How the user ran fluxgate, for the command it prints (default: the installed `fluxgate`). */
  invocation?: Invocation;
}

/** A usage problem with the options, or undefined. */
export function initProblem(options: Pick<InitOptions, 'providers' | 'url'>): string | undefined {
  if (options.providers.length === 0) return `name at least one --provider (${initTypes.join(', ')})`;
  for (const type of options.providers) {
    if (GIT_HOSTS[type]) continue;
    const near = closestName(type, initTypes);
    return `init does not know provider type "${type}"${near ? ` (did you mean "${near}"?)` : ''}: use ${initTypes.join(', ')}; other types are configured by hand (docs/providers.md)`;
  }
  if (new Set(options.providers).size !== options.providers.length) return 'each --provider once';
  if (options.url !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(options.url)) return `--url ${JSON.stringify(options.url)} is not a base URL like https://hooks.example.com`;
  return undefined;
}

/** A secret for one webhook: 32 random bytes as hex, accepted by every host's secret field. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * The files and the instructions for `options`, with secrets from `secretFor` (injected so tests can check
 * what is written where).
 *
 * @example
 * const { config, env, instructions } = renderInit({ providers: ['github'], dir: '.', repository: 'acme/fleet', branch: 'main' }, newWebhookSecret);
 * // config: providers: [{ name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }], a target for acme/fleet
 * // env: "GITHUB_WEBHOOK_SECRET=<64 hex digits>\n"; instructions: what to enter in GitHub's webhook form
 */
export function renderInit(options: InitOptions, secretFor: (type: string) => string): { config: string; env: string; instructions: string[] } {
  const hosts = options.providers.map((type) => ({ type, host: GIT_HOSTS[type]! }));
  const base = (options.url ?? 'https://YOUR-HOST').replace(/\/$/, '');
  const config = [
    '# fluxgate config written by `fluxgate init`. Every key is checked: `fluxgate validate` reports mistakes with',
    '# their line and column. The secrets are in the env file beside it (systemd EnvironmentFile=, docker',
    '# --env-file, kubectl create secret generic --from-env-file=); never commit that file.',
    'server:',
    '  address: 0.0.0.0:9292          # the Git hosts post here (put TLS in front, or set server.tls)',
    'kubernetes:',
    '  mode: auto                     # in-cluster service account, else $KUBECONFIG / ~/.kube/config, else dry-run',
    'providers:',
    ...hosts.flatMap(({ type, host }) => [`  - name: ${type}`, `    type: ${type}`, `    secret: { env: ${host.variable} }`]),
    'targets:',
    '  - name: fleet',
    `    providers: [${options.providers.join(', ')}]`,
    '    match:',
    `      repository: ${JSON.stringify(options.repository)}`,
    `      branches: [${JSON.stringify(options.branch)}]`,
    '    resources:                   # what to reconcile: the source Flux pulls this repository with',
    '      - kind: GitRepository',
    '        name: flux-system',
    '        namespace: flux-system',
    '',
  ].join('\n');
  const env = [
    '# Webhook secrets for fluxgate (written by `fluxgate init`). Keep this file private (mode 0600).',
    ...hosts.map(({ type, host }) => `${host.variable}=${secretFor(type)}`),
    '',
  ].join('\n');
  const instructions = hosts.flatMap(({ type, host }) => [
    `${host.title}: ${host.where}`,
    ...host.fields.map(([label, value]) => `  ${`${label}:`.padEnd(28)}${value.replace('{url}', `${base}/hook/${type}`).replace('{secret}', `the value of ${host.variable} in the env file`)}`),
    '',
  ]);
  return { config, env, instructions };
}

/** Writes the files (refusing to overwrite unless `force`) and prints the instructions. Returns the exit code. */
export function runInit(options: InitOptions, out: (line: string) => void, err: (line: string) => void): number {
  const dir = resolve(options.dir);
  const configPath = join(dir, 'fluxgate.yaml');
  const envPath = join(dir, 'fluxgate.env');
  const existing = [configPath, envPath].filter((path) => existsSync(path));
  if (existing.length > 0 && !options.force) {
    err(`fluxgate init: ${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: give --force to overwrite (the hosts then need the new secrets)`);
    return 1;
  }
  const { config, env, instructions } = renderInit(options, newWebhookSecret);
  mkdirSync(dir, { recursive: true });
  // The env file is created 0600 and, when overwritten, set back to 0600 before the secrets go in.
  writeFileSync(envPath, '', { mode: 0o600 });
  chmodSync(envPath, 0o600);
  writeFileSync(envPath, env);
  writeFileSync(configPath, config);
  out(`wrote ${configPath}`);
  out(`wrote ${envPath} (mode 0600: the webhook secrets; keep it out of Git)`);
  out('');
  out('Add a webhook in each Git host:');
  out('');
  for (const line of instructions) out(line);
  out(`Show a secret with:  grep '^${GIT_HOSTS[options.providers[0]!]!.variable}=' ${envPath}`);
  out(`Then edit the target in ${configPath} (repository, branches, resources) and check it:`);
  out(`  set -a; . ${envPath}; set +a; ${(options.invocation ?? installedInvocation).command(`validate ${configPath}`)}`);
  return 0;
}

export interface InitFlags {
  provider?: string[];
  dir: string;
  repository: string;
  branch: string;
  url?: string;
  force?: boolean;
}

/** `fluxgate init` from its command line (`--provider` is repeatable, or comma-separated). */
export async function initCommand(flags: InitFlags, context: CommandContext): Promise<number> {
  const options = { ...flags, providers: flags.provider ?? [], invocation: context.invocation };
  const problem = initProblem(options);
  if (problem !== undefined) context.usage(problem);
  return runInit(options, context.io.out, context.io.err);
}
