/** Runs `fluxgate register` in process against the fake hosts, with a recorded sleep: what a test needs to see. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { runRegister, type RegisterOptions } from '../../src/commands/register.ts';
import { tempDir } from '../support/temp-dir.ts';

export const SECRETS = {
  GH_SECRET: 'gh-hook-4f1e9a27c5',
  GH_TOKEN: 'ghp_0d9e8f7a6b5c4d3e2f1a',
  GL_SECRET: 'gl-hook-7c2d91e0b3',
  GL_TOKEN: 'glpat-5e4d3c2b1a0f9e8d',
  GITEA_SECRET: 'gitea-hook-3b8e1f6a',
  GITEA_TOKEN: 'gitea-tok-9a8b7c6d5e',
};
export const PUBLIC_URL = 'https://fluxgate.example.com';

export interface Run {
  code: number;
  out: string;
  err: string;
  /** Every sleep asked for, in ms. */
  sleeps: number[];
}

export interface Harness {
  /** Writes the config (YAML text) and returns a runner for it. */
  config(text: string): (flags?: Partial<Pick<RegisterOptions, 'dryRun' | 'prune' | 'rotateSecret' | 'output'>>, env?: Record<string, string>) => Promise<Run>;
  remove(): void;
}

export function harness(): Harness {
  const dir = tempDir('fluxgate-register-');
  let count = 0;
  return {
    config(text) {
      const path = join(dir.path, `config-${++count}.yaml`);
      writeFileSync(path, text);
      return async (flags = {}, env = {}) => {
        const out: string[] = [];
        const err: string[] = [];
        const sleeps: number[] = [];
        let now = Date.UTC(2026, 0, 15, 12, 0, 0);
        const code = await runRegister(
          { path, builtins: builtinProviders, env: { ...SECRETS, ...env }, ...flags },
          { now: () => now, sleep: async (ms) => void (sleeps.push(ms), (now += ms)) },
          (line) => out.push(line),
          (line) => err.push(line),
        );
        return { code, out: out.join('\n'), err: err.join('\n'), sleeps };
      };
    },
    remove: () => dir.remove(),
  };
}
