#!/usr/bin/env bun
/**
 * fluxgate command line: serve (the default), validate, send, explain, register, init, version. Exit codes: 0 ok,
 * 1 a config problem or a failed run, 2 a usage problem. Each command is imported when it runs, so `validate`,
 * `send`, `init` and

 * fluxgate command line: serve (the default), validate, send, import-receivers, version. Exit codes: 0 ok, 1 a config problem
 * or a failed run, 2 a usage problem. Each command is imported when it runs, so `validate`, `send` and
 * `version` do not load the HTTP server.
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { chooseConfigPath } from './commands/config-path.ts';
import { fluxgateVersion, isTerminal, type LogFormat, type LogLevel } from './core/index.ts';

const EXIT_USAGE = 2;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
/** A first argument that belongs to the root command; any other option means `serve`. */
const ROOT_OPTIONS = new Set(['-h', '--help', '-V', '--version']);

interface Io {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** stderr is a terminal: logs are then text, coloured, unless asked otherwise. */
  stderrIsTerminal: boolean;
}

interface ServeFlags {
  config?: string;
  dryRun?: boolean;
  fileOnly?: boolean;
  register?: boolean;
  logFormat?: string;
}

/** The level FLUXGATE_LOG_LEVEL asks for (unset or empty: info), or the usage error it is. */
function logLevel(env: Io['env']): LogLevel | { error: string } {
  const value = env.FLUXGATE_LOG_LEVEL;
  if (value === undefined || value === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  return { error: `FLUXGATE_LOG_LEVEL=${JSON.stringify(value.slice(0, 40))} is not a log level: use one of ${LOG_LEVELS.join(', ')}` };
}

/** The config file for serve/validate, or a usage error (printed with the command's help) when there is none. */
function configPath(command: Command, given: string | undefined, env: Io['env']): string {
  const chosen = chooseConfigPath(given, env, existsSync);
  if ('missing' in chosen) command.error(`error: ${chosen.missing}`, { exitCode: EXIT_USAGE });
  return (chosen as { path: string }).path;
}

function checkLogLevel(command: Command, env: Io['env']): LogLevel {
  const level = logLevel(env);
  if (typeof level !== 'string') command.error(`error: ${level.error}`, { exitCode: EXIT_USAGE });
  return level as LogLevel;
}

async function serve(flags: ServeFlags, command: Command, io: Io): Promise<number> {
  const level = checkLogLevel(command, io.env);
  const path = configPath(command, flags.config, io.env);
  const [{ startGateway }, { reportConfigError }, { ConfigError }, { createLogger, chooseLogFormat }] = await Promise.all([
    import('./app/index.ts'),
    import('./commands/validate.ts'),
    import('./config/index.ts'),
    import('./core/index.ts'),
  ]);
  const format = chooseLogFormat(flags.logFormat, io.env.FLUXGATE_LOG_FORMAT, io.stderrIsTerminal);
  if (typeof format !== 'string') command.error(`error: ${format.error}`, { exitCode: EXIT_USAGE });
  // NO_COLOR (no-color.org): any non-empty value turns colours off.
  const log = createLogger({ level, format: format as LogFormat, colour: io.stderrIsTerminal && !io.env.NO_COLOR });
  let gateway;
  try {
    gateway = await startGateway({ configPath: path, builtins: await builtins(), version: fluxgateVersion, log, env: io.env, dryRun: flags.dryRun });
  } catch (error) {
    if (error instanceof ConfigError) reportConfigError(error, io.err);
    else io.err(`fluxgate: ${(error as Error).message}`);
    return 1;
  }
  const running = gateway;
  // Webhook registration at start-up runs beside serving: logged, never fatal. Its host clients are loaded only
  // when some provider asks for it.
  const wantsRegistration = flags.register === true || running.config().providers.some((provider) => provider.register?.onStart === true);
  if (wantsRegistration) void import('./commands/register.ts')
    .then(async ({ registerOnStart, systemRegisterDeps }) => registerOnStart({ path, builtins: await builtins(), env: io.env, all: flags.register === true, log }, systemRegisterDeps))
    .catch((error: Error) => log.error('webhook registration failed', { error: error.message }));
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info('signal received', { signal });
      void running.shutdown().then(() => {
        log.flush();
        resolve(0);
      });
    };
    // SIGHUP reloads the config (without a handler it would end the process).
    const reload = () => {
      log.info('signal received', { signal: 'SIGHUP' });
      void running.reload('SIGHUP');
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function validate(file: string | undefined, flags: ServeFlags, command: Command, io: Io): Promise<number> {
  checkLogLevel(command, io.env);
  if (file && flags.config && file !== flags.config) command.error('error: give the config file once: as FILE or as --config FILE', { exitCode: EXIT_USAGE });
  const path = configPath(command, file ?? flags.config, io.env);
  const { runValidate } = await import('./commands/validate.ts');
  return runValidate({ path, builtins: await builtins(), env: io.env, dryRun: flags.dryRun, fileOnly: flags.fileOnly, configFromPipe: true }, io.out, io.err);
}

interface SendFlags {
  providerType?: string;
  secret?: string;
  signingSecret?: string;
  bearerToken?: string;
  unsigned?: boolean;
  option?: string[];
  event?: string;
  repository?: string;
  branch?: string;
  tag?: string;
  image?: string;
}

/** The providers compiled in (plugins/index.ts, a folder each): the composition root hands them to the commands. */
async function builtins() {
  return (await import('../plugins/index.ts')).builtinProviders;
}

async function send(url: string | undefined, flags: SendFlags, command: Command, io: Io): Promise<number> {
  const [{ runSend, sendArgumentsProblem }, { builtinCatalog, providerKit }] = await Promise.all([import('./commands/send.ts'), import('./provider-kit/index.ts')]);
  const deps = { catalog: builtinCatalog(await builtins(), providerKit) };
  const options = { ...flags, url };
  const problem = sendArgumentsProblem(options, deps);
  if (problem !== undefined) command.error(`error: ${problem}`, { exitCode: EXIT_USAGE });
  return runSend({ ...options, url: url!, providerType: flags.providerType! }, deps, io.out, io.err);
}

interface ExplainFlags {
  config?: string;
  provider?: string;
  payload?: string;
  headers?: string;
  event?: string;
  repository?: string;
  branch?: string;
  tag?: string;
  ref?: string;
  path?: string[];
  image?: string;
  discovered?: boolean;
  output: 'text' | 'json';
}

async function explain(flags: ExplainFlags, command: Command, io: Io): Promise<number> {
  const path = configPath(command, flags.config, io.env);
  const { explainArgumentsProblem, runExplain } = await import('./commands/explain.ts');
  const { path: paths, config: _config, ...rest } = flags;
  const options = { ...rest, paths, path, builtins: await builtins(), env: io.env };
  const problem = explainArgumentsProblem(options);
  if (problem !== undefined) command.error(`error: ${problem}`, { exitCode: EXIT_USAGE });
  return runExplain(options, io.out, io.err);
}

interface RegisterFlags {
  config?: string;
  dryRun?: boolean;
  prune?: boolean;
  rotateSecret?: boolean;
  output: 'table' | 'json';
}

async function register(flags: RegisterFlags, command: Command, io: Io): Promise<number> {
  checkLogLevel(command, io.env);
  const path = configPath(command, flags.config, io.env);
  const { runRegister, systemRegisterDeps } = await import('./commands/register.ts');
  return runRegister({ path, builtins: await builtins(), env: io.env, ...flags }, systemRegisterDeps, io.out, io.err);
}

interface InitFlags {
  provider?: string[];
  dir: string;
  repository: string;
  branch: string;
  url?: string;
  force?: boolean;
}

async function init(flags: InitFlags, command: Command, io: Io): Promise<number> {
  const { initProblem, runInit } = await import('./commands/init.ts');
  const options = { ...flags, providers: flags.provider ?? [] };
  const problem = initProblem(options);
  if (problem !== undefined) command.error(`error: ${problem}`, { exitCode: EXIT_USAGE });
  return runInit(options, io.out, io.err);
}

interface ImportFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string[];
}

async function importReceivers(flags: ImportFlags, command: Command, io: Io): Promise<number> {
  checkLogLevel(command, io.env);
  const { runImportReceivers } = await import('./commands/import-receivers.ts');
  const options = { builtins: await builtins(), env: io.env, ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}), ...(flags.namespace ? { namespaces: flags.namespace } : {}) };
  return runImportReceivers(options, (text) => io.out(text.replace(/\n$/, '')), io.err);
}

interface RetryFlags {
  config?: string;
  all?: boolean;
  admin?: string;
}

async function retry(seqs: string[], flags: RetryFlags, command: Command, io: Io): Promise<number> {
  const numbers = seqs.map(Number);
  if (numbers.some((seq) => !Number.isSafeInteger(seq) || seq < 1)) command.error('error: SEQ: the number of a failure, as `fluxgate retry` lists them', { exitCode: EXIT_USAGE });
  if (flags.all && numbers.length > 0) command.error('error: give SEQ numbers or --all, not both', { exitCode: EXIT_USAGE });
  const path = configPath(command, flags.config, io.env);
  const { runRetry } = await import('./commands/retry.ts');
  return runRetry({ path, builtins: await builtins(), env: io.env, seqs: numbers, all: flags.all === true, ...(flags.admin ? { admin: flags.admin } : {}) }, { fetch: (request) => fetch(request) }, io.out, io.err);
}

/** The command tree; `setExit` receives the exit code of the command that ran. */
function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const version = `fluxgate ${fluxgateVersion}`;
  const configOption = () => new Option('-c, --config <file>', 'config file (default: $FLUXGATE_CONFIG, else ./fluxgate.yaml)');
  const root = new Command('fluxgate')
    .description('Webhook gateway for GitOps: verified Git host and registry webhooks become Flux reconcile requests.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .configureOutput({ writeOut: (text) => io.out(text.replace(/\n$/, '')), writeErr: (text) => io.err(text.replace(/\n$/, '')) })
    .showHelpAfterError()
    .exitOverride();
  // Subcommands inherit the output, help-after-error and exit settings; each also answers -V and -h.
  const command = (name: string, description: string) => root.command(name).description(description).version(version, '-V, --version', 'print the version');

  command('serve', 'verify webhooks and request reconciles (the default command)')
    .addOption(configOption())
    .option('--dry-run', 'log reconcile requests instead of sending them, whatever kubernetes.mode says')
    .option('--register', "bring every provider's webhook registration in line once at start-up (fluxgate register)")
    .addOption(new Option('--log-format <format>', 'logs on stderr as JSON lines or as text (default: $FLUXGATE_LOG_FORMAT, else text at a terminal, JSON otherwise)').choices(['json', 'text']))
    .action(async (flags: ServeFlags, self: Command) => setExit(await serve(flags, self, io)));

  command('validate', 'check a config as serve would, without the network')
    .argument('[FILE]', 'config file (default: --config, $FLUXGATE_CONFIG, else ./fluxgate.yaml)')
    .addOption(configOption())
    .option('--dry-run', 'check it as serve --dry-run would run it')
    .addOption(new Option('--file-only', 'check the file alone, not the secrets, TLS files and kubeconfig it names (e.g. in CI)').conflicts('dryRun'))
    .action(async (file: string | undefined, flags: ServeFlags, self: Command) => setExit(await validate(file, flags, self, io)));

  command('send', 'post a signed sample webhook, as the provider would, to test a route end to end')
    .argument('[URL]', 'the hook, e.g. http://127.0.0.1:9292/hook/github')
    .option('--provider-type <type>', 'the provider type to imitate (github, gitlab, bitbucket, harbor, …)')
    .option('--secret <secret>', 'the provider secret to sign with (GitHub secret, GitLab token, …)')
    .option('--signing-secret <secret>', 'GitLab signing token (whsec_…)')
    .option('--bearer-token <token>', 'OIDC types (gcr, generic-oidc): the ID token to send')
    .option('--unsigned', 'send no credential (a provider with allowUnsigned: true)')
    .option('--option <key=value>', "one of the provider's options its signature depends on (repeatable)", (value: string, all: string[] = []) => [...all, value])
    .option('--event <name>', "the event (default: the type's push event)")
    .option('--repository <repository>', 'org/repo or a clone URL')
    .option('--image <name>', 'registry types: the image pushed (default: the repository)')
    .addOption(new Option('--branch <branch>', 'a push to this branch (default: main)').conflicts('tag'))
    .addOption(new Option('--tag <tag>', 'a push of this tag (registry types: the image tag)').conflicts('branch'))
    .action(async (url: string | undefined, flags: SendFlags, self: Command) => setExit(await send(url, flags, self, io)));

  command('explain', 'show what a delivery would reconcile, and why every other target would not (offline)')
    .addOption(configOption())
    .option('--provider <name>', 'the provider that receives it (default: the only one)')
    .option('--payload <file>', 'a recorded delivery body')
    .option('--headers <file>', "the delivery's headers: `Name: value` lines (curl -D) or a JSON object")
    .option('--event <name>', 'the event, when the headers are not given')
    .option('--repository <repository>', 'instead of a payload: org/repo or a clone URL')
    .addOption(new Option('--branch <branch>', 'a push to this branch').conflicts(['tag', 'ref']))
    .addOption(new Option('--tag <tag>', 'a push of this tag').conflicts(['branch', 'ref']))
    .addOption(new Option('--ref <ref>', 'a push to this full ref (refs/heads/main)').conflicts(['branch', 'tag']))
    .option('--path <path>', 'a changed path, for path filters (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('--image <name[:tag]>', 'instead of a payload: a registry push of this image')
    .option('--discovered', "with discovery on: list what it watches from each cluster (read-only) and say what it would reconcile")
    .addOption(new Option('--output <format>', 'text (for people) or json (for scripts)').choices(['text', 'json']).default('text'))
    .action(async (flags: ExplainFlags, self: Command) => setExit(await explain(flags, self, io)));

  command('register', "create or update each provider's webhook on its Git host, as the config says")
    .addOption(configOption())
    .option('--dry-run', 'print the plan, change nothing (exit 2 when there are changes)')
    .option('--prune', "remove hooks that point at this gateway's URL but that no provider wants any more")
    .option('--rotate-secret', 'send the configured secrets to existing hooks too (hosts never show them)')
    .addOption(new Option('--output <format>', 'table (for people) or json (for scripts)').choices(['table', 'json']).default('table'))
    .action(async (flags: RegisterFlags, self: Command) => setExit(await register(flags, self, io)));

  command('init', 'write a starter config and an env file of new webhook secrets, and print what to enter in each Git host')
    .option('--provider <type>', 'a Git host: github, gitlab, gitea, gogs, bitbucket, bitbucket-server (repeatable, or comma-separated)', (value: string, all: string[] = []) => [...all, ...value.split(',').map((type) => type.trim()).filter(Boolean)])
    .option('--dir <dir>', 'where to write fluxgate.yaml and fluxgate.env', '.')
    .option('--repository <repository>', 'the repository to watch (org/repo or a clone URL)', 'your-org/your-fleet-repo')
    .option('--branch <branch>', 'the branch to watch', 'main')
    .option('--url <url>', 'the public base URL the hosts post to (https://hooks.example.com)')
    .option('--force', 'overwrite existing fluxgate.yaml and fluxgate.env')
    .action(async (flags: InitFlags, self: Command) => setExit(await init(flags, self, io)));

  command('import-receivers', "print the config-file equivalent of the cluster's Flux Receivers (tokens as env references)")
    .option('--kubeconfig <file>', 'the kubeconfig to read them with (default: as serve finds one)')
    .option('--context <name>', 'the kubeconfig context')
    .option('-n, --namespace <namespace>', 'only this namespace (repeatable; default: all)', (value: string, all: string[] = []) => [...all, value])
    .action(async (flags: ImportFlags, self: Command) => setExit(await importReceivers(flags, self, io)));

  command('retry', 'list the reconcile requests that failed for good, or owe them again (on the running gateway)')
    .argument('[SEQ...]', 'the failures to retry, by the number the list shows')
    .addOption(configOption())
    .option('--all', 'retry every kept failure')
    .option('--admin <url>', 'the admin listener (default: from server.adminAddress)')
    .action(async (seqs: string[], flags: RetryFlags, self: Command) => setExit(await retry(seqs, flags, self, io)));

  command('version', 'print the version').action(() => {
    io.out(version);
    setExit(0);
  });
  return root;
}

/** Runs the command line `argv` (without the executable and script) and resolves to the exit code. */
async function main(argv: string[], io: Io): Promise<number> {
  const args = argv.length === 0 || (argv[0]!.startsWith('-') && !ROOT_OPTIONS.has(argv[0]!)) ? ['serve', ...argv] : argv;
  let exitCode = 0;
  try {
    await buildProgram(io, (code) => (exitCode = code)).parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
  return exitCode;
}

main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  stderrIsTerminal: isTerminal(2),
}).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`fluxgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
