/**
 * Runs Prometheus's promtool (Debian package `prometheus`). The suite needs it: `.ci/run` installs it when it is
 * missing, and a test without it fails saying so rather than skipping.
 */
import { spawnSync } from 'node:child_process';

export interface PromtoolResult {
  code: number;
  /** stdout and stderr together: promtool prints its findings on either. */
  output: string;
}

/**
 * @example
 * expect(promtool(['check', 'metrics'], text)).toEqual({ code: 0, output: '' });
 */
export function promtool(args: string[], stdin?: string): PromtoolResult {
  const path = Bun.which('promtool');
  if (!path) throw new Error('promtool is not installed: .ci/run installs it (apt-get install -y prometheus)');
  const run = spawnSync(path, args, { input: stdin ?? '', encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}` };
}
