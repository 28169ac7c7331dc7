/**
 * How the user ran fluxgate, so that a message naming a command names one they can run from where they are:
 * `npm start -- --dry-run` under `npm start`, `fluxgate validate …` once `fluxgate` is on PATH (linked or
 * installed), `npx bun src/main.ts validate …` from a checkout, `dist/fluxgate validate …` for a binary not on PATH.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, sep } from 'node:path';

export interface Invocation {
  /** A fluxgate command line for `args`: `fluxgate validate fluxgate.yaml`, `npx bun src/main.ts validate fluxgate.yaml`. */
  command(args: string): string;
  /** The command line the user ran, with `extra` added: `npx bun src/main.ts retry --config x.yaml --all`. */
  again(extra: string): string;
  /** `serve` on `configPath` with `extra`: `npm start -- --dry-run` under npm start, else `… serve --config x.yaml --dry-run`. */
  serve(configPath: string, extra: string): string;
}

/** What decides how fluxgate was run (explicit inputs, so tests can state them). */
export interface InvocationFacts {
  env: Record<string, string | undefined>;
  /** `process.argv`: the runtime, then the script (`/$bunfs/…` in a compiled binary), then the arguments. */
  argv: readonly string[];
  /** The runtime, or the compiled binary itself. */
  execPath: string;
  cwd: string;
  /** The real path of the `fluxgate` that PATH finds, if any. */
  fluxgateOnPath?: string;
}

/** The form of messages when nothing is known of the invocation (a library use, a test): the installed command. */
export const installedInvocation: Invocation = {
  command: (args) => `fluxgate ${args}`,
  again: (extra) => `fluxgate ${extra}`,
  serve: (configPath, extra) => `fluxgate serve --config ${quoted(configPath)} ${extra}`,
};

/** An argument as a POSIX shell reads it back. */
function quoted(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const within = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
/** `dist/fluxgate` from the directory it is under, else the path as it is. */
const fromHere = (path: string, cwd: string) => (within(path, cwd) ? relative(cwd, path) || '.' : path);

/** The prefix of every fluxgate command line for this invocation. */
function prefixOf(facts: InvocationFacts): string {
  const script = facts.argv[1];
  const compiled = script === undefined || script.startsWith('/$bunfs/') || script.startsWith('B:/~BUN/');
  const onPath = facts.fluxgateOnPath;
  if (compiled) {
    if (onPath === facts.execPath) return 'fluxgate';
    const path = fromHere(facts.execPath, facts.cwd);
    return isAbsolute(path) || path.includes('/') ? path : `./${path}`;
  }
  // From source: src/main.ts of a checkout; `fluxgate` on PATH counts when it leads into that checkout (npm link).
  const checkout = dirname(dirname(script));
  if (onPath !== undefined && within(onPath, checkout)) return 'fluxgate';
  if (within(facts.cwd, checkout)) return `npx bun ${relative(facts.cwd, script)}`;
  return `${checkout}/node_modules/.bin/bun ${script}`;
}

/**
 * @example
 * invocationOf({ env: { npm_lifecycle_event: 'start', npm_package_name: 'fluxgate' }, argv: ['bun', '/src/fluxgate/src/main.ts', 'serve', '--config', 'config.example.yaml'],
 *   execPath: '/usr/bin/bun', cwd: '/src/fluxgate' }).serve('config.example.yaml', '--dry-run'); // 'npm start -- --dry-run'
 */
export function invocationOf(facts: InvocationFacts): Invocation {
  const prefix = prefixOf(facts);
  const npmStart = facts.env.npm_lifecycle_event === 'start' && facts.env.npm_package_name === 'fluxgate';
  const ran = facts.argv.slice(2).map(quoted).join(' ');
  return {
    command: (args) => `${prefix} ${args}`,
    again: (extra) => (npmStart ? `npm start -- ${extra}` : `${prefix}${ran ? ` ${ran}` : ''} ${extra}`),
    // npm start names its own config (config.example.yaml).
    serve: (configPath, extra) => (npmStart ? `npm start -- ${extra}` : `${prefix} serve --config ${quoted(configPath)} ${extra}`),
  };
}

/** This process's invocation: its arguments, environment, and the `fluxgate` PATH finds (with symlinks resolved). */
export function invocationOfProcess(): Invocation {
  let fluxgateOnPath: string | undefined;
  try {
    const found = Bun.which('fluxgate', { PATH: process.env.PATH ?? '' });
    fluxgateOnPath = found === null ? undefined : realpathSync(found);
  } catch {
    fluxgateOnPath = undefined; // a dangling link: not a command the user can run
  }
  return invocationOf({ env: process.env, argv: process.argv, execPath: process.execPath, cwd: process.cwd(), ...(fluxgateOnPath !== undefined ? { fluxgateOnPath } : {}) });
}
