#!/usr/bin/env bun
/**
 * Compiles fluxgate into one self-contained executable (Bun runtime included) with the commit stamped in.
 *
 *   bun scripts/build.ts                                        # dist/fluxgate, for this machine
 *   bun scripts/build.ts --target linux-x64 --target linux-arm64   # dist/fluxgate-linux-x64, dist/fluxgate-linux-arm64
 *   bun scripts/build.ts --outdir /out --commit 3f9c2a1b7d4e      # where to, and the commit when there is no .git
 *
 * A target is one of Bun's `--compile --target` platforms without the `bun-` prefix (linux-x64, linux-arm64,
 * linux-x64-baseline, linux-x64-musl, linux-arm64-musl, …); Bun fetches the runtime for a foreign platform from
 * the npm registry once and caches it. The commit comes from --commit, else $FLUXGATE_BUILD_COMMIT, else git
 * (`.dirty` appended when tracked files differ from HEAD); with none, the binary reports the bare version.
 * `--bytecode --format=esm` starts about 3× faster than a plain compile.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dir, '..');
/** Semver build metadata allows [0-9A-Za-z-] in dot-separated parts; a commit is hex, maybe marked dirty. */
const COMMIT = /^[0-9a-f]{7,40}(\.dirty)?$/;

function git(...args: string[]): string | undefined {
  const run = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** The commit to stamp: given, or HEAD from git (and whether tracked files differ from it), or none. */
function commitToStamp(given: string | undefined): string | undefined {
  if (given) return given;
  const head = git('rev-parse', '--short=12', 'HEAD');
  if (!head) return undefined;
  const changed = git('status', '--porcelain', '--untracked-files=no');
  return changed ? `${head}.dirty` : head;
}

async function build(options: { target?: string; outfile: string; commit?: string }): Promise<void> {
  const result = await Bun.build({
    // Each Worker's script is an entry point of its own; inside the binary it sits at its path under src/, the entry
    // points' common directory: the CEL evaluator's (src/receivers/cel-evaluator.ts) and the one that loads each
    // plugin first under a time limit (src/provider-kit/plugin-trial.ts).
    entrypoints: [join(root, 'src', 'main.ts'), join(root, 'src', 'receivers', 'cel-worker.ts'), join(root, 'src', 'provider-kit', 'plugin-trial-worker.ts')],
    compile: { outfile: options.outfile, ...(options.target ? { target: `bun-${options.target}` as Bun.Build.CompileTarget } : {}) },
    bytecode: true,
    // Dynamic imports become chunks loaded when first imported: without splitting, every module's imports of Node
    // built-ins (node:https from the Kubernetes client, node:crypto's streams, …) are hoisted and run at start-up.
    splitting: true,
    format: 'esm',
    define: { FLUXGATE_BUILD_COMMIT: JSON.stringify(options.commit ?? '') },
  });
  for (const message of result.logs) console.error(String(message));
  if (!result.success) throw new Error(`build failed for ${options.target ?? 'this machine'}`);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', multiple: true },
      outdir: { type: 'string', default: join(root, 'dist') },
      commit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: bun scripts/build.ts [--target PLATFORM]... [--outdir DIR] [--commit SHA]');
    return 0;
  }
  const commit = commitToStamp(values.commit ?? process.env.FLUXGATE_BUILD_COMMIT);
  if (commit !== undefined && !COMMIT.test(commit)) {
    console.error(`build: --commit ${JSON.stringify(commit)} is not a git commit (7 to 40 lowercase hex digits)`);
    return 2;
  }
  const outdir = resolve(values.outdir!);
  mkdirSync(outdir, { recursive: true });
  const targets = values.target ?? [];
  const jobs = targets.length === 0 ? [{ target: undefined, outfile: join(outdir, 'fluxgate') }] : targets.map((target) => ({ target, outfile: join(outdir, `fluxgate-${target}`) }));
  for (const job of jobs) {
    await build({ ...job, commit });
    const mib = statSync(job.outfile).size / 1048576;
    console.log(`${job.outfile} (${job.target ?? 'this machine'}, commit ${commit ?? 'none'}, ${mib.toFixed(1)} MiB)`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
