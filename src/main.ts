#!/usr/bin/env bun
/** fluxgate command line: serve (default), validate, send, version. */
import { parseArgs } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import { ConfigError } from './config/validate.ts';
import { createLogger, isLogLevel } from './observe/log.ts';
import { runSend } from './commands/send.ts';
import { startGateway } from './commands/serve.ts';
import { reportConfigError, runValidate } from './commands/validate.ts';

const usage = `usage:
  fluxgate [serve] [--config FILE] [--dry-run]
  fluxgate validate [FILE | --config FILE] [--dry-run | --file-only]
  fluxgate send --provider-type T --secret S [--signing-secret S] [--event E] [--repository R] [--branch B | --tag T] URL
  fluxgate version
The config path defaults to $FLUXGATE_CONFIG, else ./fluxgate.yaml.`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'provider-type': { type: 'string' },
      secret: { type: 'string' },
      'signing-secret': { type: 'string' },
      event: { type: 'string' },
      repository: { type: 'string' },
      branch: { type: 'string' },
      tag: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'file-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || command === 'help') {
    out(usage);
    return 0;
  }
  const configPath = values.config ?? process.env.FLUXGATE_CONFIG ?? 'fluxgate.yaml';
  switch (command) {
    case 'version':
      out(`fluxgate ${packageJson.version}`);
      return 0;
    case 'validate':
      return runValidate({ path: positionals[0] ?? configPath, env: process.env, dryRun: values['dry-run'], fileOnly: values['file-only'] }, out, err);
    case 'send': {
      const url = positionals[0];
      if (!url || !values['provider-type']) {
        err(usage);
        return 2;
      }
      return runSend(
        {
          url,
          providerType: values['provider-type'],
          secret: values.secret,
          signingSecret: values['signing-secret'],
          event: values.event,
          repository: values.repository,
          branch: values.branch,
          tag: values.tag,
        },
        out,
        err,
      );
    }
    case 'serve':
      return serve(configPath, values['dry-run']);
    default:
      err(`unknown command "${command}"\n${usage}`);
      return 2;
  }
}

async function serve(configPath: string, dryRun: boolean | undefined): Promise<number> {
  const level = process.env.FLUXGATE_LOG_LEVEL;
  const log = createLogger({ level: isLogLevel(level) ? level : 'info' });
  let gateway;
  try {
    gateway = await startGateway({ configPath, version: packageJson.version, log, dryRun });
  } catch (error) {
    if (error instanceof ConfigError) {
      reportConfigError(error, err);
      return 1;
    }
    err(`fluxgate: ${(error as Error).message}`);
    return 1;
  }
  const running = gateway;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info('signal received', { signal });
      void running.shutdown().then(() => {
        log.flush();
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    err(`fluxgate: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
