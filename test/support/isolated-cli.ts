/**
 * Runs the fluxgate command line as a separate process in a clean environment: a working directory and HOME
 * of the test's choosing, no $KUBECONFIG, no in-cluster variables, no $FLUXGATE_CONFIG and none of the
 * machine's own secrets, so what the process finds is what the test put there.
 */
import { fluxgateArgs, waitForLogLine } from './cli.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cleanEnv(home: string, env: Record<string, string>): Record<string, string> {
  const inherited = Object.fromEntries(['PATH', 'TMPDIR', 'LANG'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
  return { ...inherited, HOME: home, ...env };
}

/**
 * Runs `fluxgate ...args` to completion. A process still running after `guardMs` (a serve that should have
 * refused to start) is killed, so the test fails on its exit code instead of hanging.
 */
export async function runIsolated(args: string[], options: { cwd: string; home?: string; env?: Record<string, string>; guardMs?: number }): Promise<RunResult> {
  const child = Bun.spawn(fluxgateArgs(...args), { cwd: options.cwd, env: cleanEnv(options.home ?? options.cwd, options.env ?? {}), stdout: 'pipe', stderr: 'pipe' });
  const guard = setTimeout(() => child.kill(), options.guardMs ?? 30_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(guard);
  }
}

export interface RunningServe {
  /** The address it listens on, from its "fluxgate listening" log line. */
  url: string;
  /** The admin listener's address, from the same line. */
  adminUrl: string;
  /** Every stderr line read so far. */
  lines: string[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/** Starts `fluxgate serve ...args` and resolves once it logs that it is listening. */
export async function startIsolatedServe(args: string[], options: { cwd: string; home?: string; env?: Record<string, string> }): Promise<RunningServe> {
  const child = Bun.spawn(fluxgateArgs('serve', ...args), { cwd: options.cwd, env: cleanEnv(options.home ?? options.cwd, options.env ?? {}), stdout: 'ignore', stderr: 'pipe' });
  const lines: string[] = [];
  try {
    const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening', lines);
    const reachable = (address: unknown) => `http://${String(address).replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;
    return {
      url: reachable(listening.address),
      adminUrl: reachable(listening.admin),
      lines,
      async stop() {
        child.kill('SIGTERM');
        return child.exited;
      },
    };
  } catch (error) {
    child.kill();
    throw error;
  }
}
