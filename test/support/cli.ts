/** Runs the fluxgate command line as a user would: a separate process. */
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..');
export const mainScript = join(root, 'src', 'main.ts');

export function fluxgateArgs(...args: string[]): string[] {
  return [process.execPath, mainScript, ...args];
}

export async function runFluxgate(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(fluxgateArgs(...args), { env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe', cwd: root });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

/** Reads JSON log lines from a running process's stderr until one satisfies `until`. */
export async function waitForLogLine(stream: ReadableStream<Uint8Array>, until: (line: Record<string, unknown>) => boolean, lines: string[] = []): Promise<Record<string, unknown>> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`process ended before the expected log line:\n${lines.join('\n')}`);
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(text);
        try {
          const parsed = JSON.parse(text) as Record<string, unknown>;
          if (until(parsed)) return parsed;
        } catch {
          // not a JSON line
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}
