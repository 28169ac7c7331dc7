#!/usr/bin/env bun
/**
 * fluxgate command line: serve (the default), validate, send, explain, register, init, import-receivers, retry,
 * version. This file only parses the arguments and dispatches; each command lives in src/commands/ and is imported
 * when it runs, so `validate`, `send`, `init` and `version` never load the HTTP server. Exit codes: 0 ok, 1 a
 * config problem or a failed run, 2 a usage problem.
 */
import { Command, CommanderError, Option } from 'commander';
import { fluxgateVersion, invocationOfProcess, isTerminal } from './core/index.ts';
import type { CommandContext, Io } from './commands/command-context.ts';
import type { ExplainFlags } from './commands/explain.ts';
import type { ImportFlags } from './commands/import-receivers.ts';
import type { InitFlags } from './commands/init.ts';
import type { RegisterFlags } from './commands/register.ts';
import type { RetryFlags } from './commands/retry.ts';
import type { SendFlags } from './commands/send.ts';
import type { ServeFlags } from './commands/serve.ts';
import type { ValidateFlags } from './commands/validate.ts';

const EXIT_USAGE = 2;
/** A first argument that belongs to the root command; any other option means `serve`. */
const ROOT_OPTIONS = new Set(['-h', '--help', '-V', '--version']);
const VERSION = `fluxgate ${fluxgateVersion}`;

/** The providers compiled in (plugins/index.ts, a folder each): the composition root hands them to the commands. */
async function builtins() {
  return (await import('../plugins/index.ts')).builtinProviders;
}

/** Declares a subcommand; it inherits the root's output, help-after-error and exit settings, and answers -V and -h. */
type Declare = (name: string, description: string) => Command;
/** Runs a command's body with the context of the invocation (`self` is the subcommand, for usage errors) and keeps its exit code. */
type Run = (self: Command, body: (context: CommandContext) => Promise<number>) => Promise<void>;

const configOption = () => new Option('-c, --config <file>', 'config file (default: $FLUXGATE_CONFIG, else ./fluxgate.yaml)');
/** Collects a repeatable option's values. */
const repeated = (value: string, all: string[] = []) => [...all, value];

function declareServe(declare: Declare, run: Run): void {
  declare('serve', 'verify webhooks and request reconciles (the default command)')
    .addOption(configOption())
    .option('--dry-run', 'log reconcile requests instead of sending them, whatever kubernetes.mode says')
    .option('--register', "bring every provider's webhook registration in line once at start-up (fluxgate register)")
    .addOption(new Option('--log-format <format>', 'logs on stderr as JSON lines or as text (default: $FLUXGATE_LOG_FORMAT, else text at a terminal, JSON otherwise)').choices(['json', 'text']))
    .action((flags: ServeFlags, self: Command) => run(self, async (context) => (await import('./commands/serve.ts')).serveCommand(flags, context)));
}

function declareValidate(declare: Declare, run: Run): void {
  declare('validate', 'check a config as serve would, without the network')
    .argument('[FILE]', 'config file (default: --config, $FLUXGATE_CONFIG, else ./fluxgate.yaml)')
    .addOption(configOption())
    .option('--dry-run', 'check it as serve --dry-run would run it')
    .addOption(new Option('--file-only', 'check the file alone, not the secrets, TLS files and kubeconfig it names (e.g. in CI)').conflicts('dryRun'))
    .action((file: string | undefined, flags: ValidateFlags, self: Command) => run(self, async (context) => (await import('./commands/validate.ts')).validateCommand(file, flags, context)));
}

function declareSend(declare: Declare, run: Run): void {
  declare('send', 'post a signed sample webhook, as the provider would, to test a route end to end')
    .argument('[URL]', 'the hook, e.g. http://127.0.0.1:9292/hook/github')
    .option('--provider-type <type>', 'the provider type to imitate (github, gitlab, bitbucket, harbor, …)')
    .option('--secret <secret>', 'the provider secret to sign with (GitHub secret, GitLab token, …)')
    .option('--signing-secret <secret>', 'GitLab signing token (whsec_…)')
    .option('--bearer-token <token>', 'OIDC types (gcr, generic-oidc): the ID token to send')
    .option('--unsigned', 'send no credential (a provider with allowUnsigned: true)')
    .option('--option <key=value>', "one of the provider's options its signature depends on (repeatable)", repeated)
    .option('--event <name>', "the event (default: the type's push event)")
    .option('--repository <repository>', 'org/repo or a clone URL')
    .option('--image <name>', 'registry types: the image pushed (default: the repository)')
    .addOption(new Option('--branch <branch>', 'a push to this branch (default: main)').conflicts('tag'))
    .addOption(new Option('--tag <tag>', 'a push of this tag (registry types: the image tag)').conflicts('branch'))
    .action((url: string | undefined, flags: SendFlags, self: Command) => run(self, async (context) => (await import('./commands/send.ts')).sendCommand(url, flags, context)));
}

function declareExplain(declare: Declare, run: Run): void {
  declare('explain', 'show what a delivery would reconcile, and why every other target would not (offline)')
    .addOption(configOption())
    .option('--provider <name>', 'the provider that receives it (default: the only one)')
    .option('--payload <file>', 'a recorded delivery body')
    .option('--headers <file>', "the delivery's headers: `Name: value` lines (curl -D) or a JSON object")
    .option('--event <name>', 'the event, when the headers are not given')
    .option('--repository <repository>', 'instead of a payload: org/repo or a clone URL')
    .addOption(new Option('--branch <branch>', 'a push to this branch').conflicts(['tag', 'ref']))
    .addOption(new Option('--tag <tag>', 'a push of this tag').conflicts(['branch', 'ref']))
    .addOption(new Option('--ref <ref>', 'a push to this full ref (refs/heads/main)').conflicts(['branch', 'tag']))
    .option('--path <path>', 'a changed path, for path filters (repeatable)', repeated)
    .option('--image <name[:tag]>', 'instead of a payload: a registry push of this image')
    .option('--discovered', "with discovery on: list what it watches from each cluster (read-only) and say what it would reconcile")
    .addOption(new Option('--output <format>', 'text (for people) or json (for scripts)').choices(['text', 'json']).default('text'))
    .action((flags: ExplainFlags, self: Command) => run(self, async (context) => (await import('./commands/explain.ts')).explainCommand(flags, context)));
}

function declareRegister(declare: Declare, run: Run): void {
  declare('register', "create or update each provider's webhook on its Git host, as the config says")
    .addOption(configOption())
    .option('--dry-run', 'print the plan, change nothing (exit 2 when there are changes)')
    .option('--prune', "remove hooks that point at this gateway's URL but that no provider wants any more")
    .option('--rotate-secret', 'send the configured secrets to existing hooks too (hosts never show them)')
    .addOption(new Option('--output <format>', 'table (for people) or json (for scripts)').choices(['table', 'json']).default('table'))
    .action((flags: RegisterFlags, self: Command) => run(self, async (context) => (await import('./commands/register.ts')).registerCommand(flags, context)));
}

function declareInit(declare: Declare, run: Run): void {
  declare('init', 'write a starter config and an env file of new webhook secrets, and print what to enter in each Git host')
    .option('--provider <type>', 'a Git host: github, gitlab, gitea, gogs, bitbucket, bitbucket-server (repeatable, or comma-separated)', (value: string, all: string[] = []) => [...all, ...value.split(',').map((type) => type.trim()).filter(Boolean)])
    .option('--dir <dir>', 'where to write fluxgate.yaml and fluxgate.env', '.')
    .option('--repository <repository>', 'the repository to watch (org/repo or a clone URL)', 'your-org/your-fleet-repo')
    .option('--branch <branch>', 'the branch to watch', 'main')
    .option('--url <url>', 'the public base URL the hosts post to, for example https://hooks.example.com (without it, the URLs printed say https://YOUR-HOST)')
    .option('--force', 'overwrite existing fluxgate.yaml and fluxgate.env')
    .action((flags: InitFlags, self: Command) => run(self, async (context) => (await import('./commands/init.ts')).initCommand(flags, context)));
}

function declareImportReceivers(declare: Declare, run: Run): void {
  declare('import-receivers', "print the config-file equivalent of the cluster's Flux Receivers (tokens as env references)")
    .option('--kubeconfig <file>', 'the kubeconfig to read them with (default: as serve finds one)')
    .option('--context <name>', 'the kubeconfig context')
    .option('-n, --namespace <namespace>', 'only this namespace (repeatable; default: all)', repeated)
    .action((flags: ImportFlags, self: Command) => run(self, async (context) => (await import('./commands/import-receivers.ts')).importReceiversCommand(flags, context)));
}

function declareRetry(declare: Declare, run: Run): void {
  declare('retry', 'list the reconcile requests that failed for good, or owe them again (on the running gateway)')
    .argument('[SEQ...]', 'the failures to retry, by the number the list shows')
    .addOption(configOption())
    .option('--all', 'retry every kept failure')
    .option('--admin <url>', 'the admin listener (default: from server.adminAddress)')
    .action((seqs: string[], flags: RetryFlags, self: Command) => run(self, async (context) => (await import('./commands/retry.ts')).retryCommand(seqs, flags, context)));
}

/** The command tree; `setExit` receives the exit code of the command that ran. */
function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const root = new Command('fluxgate')
    .description('Webhook gateway for GitOps: verified Git host and registry webhooks become Flux reconcile requests.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .configureOutput({ writeOut: (text) => io.out(text.replace(/\n$/, '')), writeErr: (text) => io.err(text.replace(/\n$/, '')) })
    .showHelpAfterError()
    .exitOverride();
  const declare: Declare = (name, description) => root.command(name).description(description).version(VERSION, '-V, --version', 'print the version');
  const run: Run = async (self, body) => {
    const usage = (message: string): never => self.error(`error: ${message}`, { exitCode: EXIT_USAGE });
    setExit(await body({ io, usage, builtins, invocation: invocationOfProcess() }));
  };
  for (const declareCommand of [declareServe, declareValidate, declareSend, declareExplain, declareRegister, declareInit, declareImportReceivers, declareRetry]) declareCommand(declare, run);
  declare('version', 'print the version').action(() => {
    io.out(VERSION);
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
