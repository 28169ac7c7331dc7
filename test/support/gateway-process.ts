/**
 * fluxgate as a separate process, for tests that stop it as the world does: SIGTERM, or `kill -9` at any moment.
 * It is the compiled binary when $FLUXGATE_BINARY names one (CI builds it before the suite: what users run, and it
 * starts in a tenth of the time), else `bun src/main.ts serve`. Its JSON log lines are read as they come (a pipe
 * nobody reads would block it).
 */
import { resolve } from 'node:path';
import { fluxgateArgs } from './cli.ts';

export interface GatewayProcess {
  /** The webhook listener, e.g. http://127.0.0.1:41234. */
  url: string;
  adminUrl: string;
  pid: number;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  exited: Promise<number>;
  kill(signal: 'SIGKILL' | 'SIGTERM'): void;
}

/**
 * Starts `fluxgate serve --config <config>` and resolves once it logs "fluxgate listening"; rejects with its output
 * when it ends first.
 *
 * @example
 * const gateway = await startGatewayProcess('/tmp/x/fluxgate.yaml');
 * gateway.kill('SIGKILL');
 */
export async function startGatewayProcess(config: string, env: Record<string, string> = {}, limits: { fileSizeLimitKiB?: number } = {}): Promise<GatewayProcess> {
  const binary = process.env.FLUXGATE_BINARY;
  const fluxgate = binary ? [resolve(import.meta.dir, '..', '..', binary), 'serve', '--config', config] : fluxgateArgs('serve', '--config', config);
  // A file-size limit with SIGXFSZ ignored: a write past it fails with EFBIG, as on a full disk (ignored signals
  // survive exec; bash's ulimit -f counts KiB). Only the soft limit: prlimit can lift it again without privilege.
  const command = limits.fileSizeLimitKiB === undefined ? fluxgate : ['bash', '-c', `trap '' XFSZ; ulimit -S -f ${limits.fileSizeLimitKiB}; exec "$@"`, 'fluxgate', ...fluxgate];
  const child = Bun.spawn(command, { env: { ...process.env, ...env }, stdout: 'ignore', stderr: 'pipe' });
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  let listening: (line: Record<string, unknown>) => void = () => {};
  const ready = new Promise<Record<string, unknown>>((resolve) => (listening = resolve));
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of child.stderr) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        text.push(line);
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          lines.push(parsed);
          if (parsed.msg === 'fluxgate listening') listening(parsed);
        } catch {
          // not a JSON line (a start-up error is plain text)
        }
      }
    }
  })();
  const ended = child.exited.then(async (code) => {
    await reading;
    return code;
  });
  const first = await Promise.race([ready, ended.then((code) => ({ exited: code }))]);
  if ('exited' in first) throw new Error(`fluxgate ended (${first.exited}) before listening:\n${text.join('\n')}`);
  return {
    url: `http://${first.address as string}`,
    adminUrl: `http://${first.admin as string}`,
    pid: child.pid,
    lines,
    exited: ended,
    kill: (signal) => child.kill(signal),
  };
}
