/**
 * The Dockerfile, read as a builder reads it (no Docker engine runs here; CI also runs the dockerfile-utils
 * linter on it): a build stage that runs scripts/build.ts, a runtime stage with only the binary, every base
 * pinned by digest and none `latest`, a numeric non-root user, the binary as the exec-form entrypoint, config
 * under /etc/fluxgate/, and a build context (.dockerignore) that holds everything the COPYs name.
 */
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  from: string;
  name?: string;
  platform?: string;
  instructions: Instruction[];
}

/** Instructions with their line continuations joined and comments (and the parser directive) dropped. */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && !pending)) return;
    const continued = line.endsWith('\\');
    const part = continued ? line.slice(0, -1).trim() : line;
    pending ??= { parts: [], line: index + 1 };
    pending.parts.push(part);
    if (continued) return;
    const joined = pending.parts.filter(Boolean).join(' ');
    const [keyword, ...rest] = joined.split(/\s+/);
    result.push({ keyword: keyword!.toUpperCase(), args: rest.join(' '), line: pending.line });
    pending = undefined;
  });
  return result;
}

function stages(list: Instruction[]): { args: Instruction[]; stages: Stage[] } {
  const out: Stage[] = [];
  const globalArgs: Instruction[] = [];
  for (const instruction of list) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/);
      const platform = words[0]!.startsWith('--platform=') ? words.shift()!.slice('--platform='.length) : undefined;
      const as = words.findIndex((word) => word.toUpperCase() === 'AS');
      out.push({ from: words[0]!, name: as >= 0 ? words[as + 1] : undefined, platform, instructions: [] });
    } else if (out.length === 0) {
      globalArgs.push(instruction);
    } else {
      out.at(-1)!.instructions.push(instruction);
    }
  }
  return { args: globalArgs, stages: out };
}

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const parsed = stages(instructions(dockerfile));
const [build, runtime] = [parsed.stages.at(0)!, parsed.stages.at(-1)!];
const last = (stage: Stage, keyword: string) => stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);

describe('Dockerfile', () => {
  test('two stages: a named build stage, and a runtime stage that copies only the binary from it', () => {
    expect(parsed.stages).toHaveLength(2);
    expect(build.name).toBe('build');
    expect(runtime.name).toBeUndefined();
    const copies = runtime.instructions.filter((instruction) => instruction.keyword === 'COPY');
    expect(copies).toHaveLength(1);
    expect(copies[0]!.args).toMatch(/^--from=build (--chmod=0555 )?\/out\/fluxgate \/usr\/local\/bin\/fluxgate$/);
  });

  test('the build stage compiles with scripts/build.ts, for the target platform from the build platform', () => {
    expect(build.platform).toBe('$BUILDPLATFORM');
    const runs = build.instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.args);
    expect(runs).toContain('npm ci --no-audit --no-fund');
    expect(runs.some((run) => run.includes('scripts/build.ts --target "$target"'))).toBe(true);
    expect(build.instructions.some((instruction) => instruction.keyword === 'ARG' && instruction.args === 'TARGETARCH')).toBe(true);
  });

  test('every base image is pinned by a sha256 digest, and none is `latest`', () => {
    for (const stage of parsed.stages) {
      expect(stage.from).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$/);
      expect(stage.from).not.toMatch(/:latest(@|$)/);
    }
    expect(dockerfile).not.toMatch(/:latest\b/);
  });

  test('the build stage uses a Node version the dependencies accept (22.19+)', () => {
    expect(build.from).toMatch(/^node:22-/);
  });

  test('runs as a numeric non-root user, so Kubernetes can verify runAsNonRoot', () => {
    const user = last(runtime, 'USER')!.args;
    const [uid, gid] = user.split(':').map(Number);
    expect(user).toMatch(/^\d+:\d+$/);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
  });

  test('the binary is the exec-form entrypoint, serve the default command, config under /etc/fluxgate/', () => {
    expect(JSON.parse(last(runtime, 'ENTRYPOINT')!.args)).toEqual(['/usr/local/bin/fluxgate']);
    expect(JSON.parse(last(runtime, 'CMD')!.args)).toEqual(['serve']);
    expect(last(runtime, 'ENV')!.args).toBe('FLUXGATE_CONFIG=/etc/fluxgate/fluxgate.yaml');
    expect(last(runtime, 'EXPOSE')!.args.split(/\s+/).sort()).toEqual(['9292', '9293']);
    // A read-only root filesystem: nothing in the runtime stage creates files or volumes to write to.
    expect(runtime.instructions.filter((instruction) => ['RUN', 'VOLUME'].includes(instruction.keyword))).toEqual([]);
  });

  test('everything the build stage copies is in the build context, and .dockerignore keeps out the rest', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
    for (const name of ['.git', 'node_modules', 'dist']) expect(ignored).toContain(name);
    const sources = build.instructions.filter((instruction) => instruction.keyword === 'COPY').flatMap((instruction) => instruction.args.split(/\s+/).filter((word) => !word.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(root, source))).toBe(true);
      expect(ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`))).toEqual([]);
    }
    // What src/main.ts imports at build time must be copied: the package manifest and the plugins.
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'scripts', 'src', 'plugins']));
  });
});
