/** Log format as a user meets it: `fluxgate serve` in a pipe, under a terminal, and with --log-format. */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fluxgateArgs } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

setDefaultTimeout(30_000);

const dir = tempDir();
afterAll(() => dir.remove());
/** A config with its own state directory: under script(1), a stopped fluxgate lets go of its file a moment after script ends. */
function configWithState(name: string): string {
  const path = join(dir.path, `${name}.yaml`);
  writeFileSync(
    path,
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
state: { path: ${name}-state }
providers: [{ name: github, type: github, secret: { env: HOOK_SECRET } }]
targets: [{ name: app, providers: [github], resources: [{ kind: GitRepository, name: app, namespace: flux-system }] }]
`,
  );
  return path;
}
const config = configWithState('fluxgate');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir.path, HOOK_SECRET: 'log-format-secret-6b1f' };

/**
 * Starts `command`, reads `stream` until it shows "fluxgate listening", stops the process (SIGTERM) and returns all
 * it printed. Gives up (killing it) after 20 s.
 */
async function outputUntilListening(command: string[], extraEnv: Record<string, string> = {}, stream: 'stdout' | 'stderr' = 'stderr'): Promise<string> {
  const child = Bun.spawn(command, { env: { ...env, ...extraEnv }, stdout: 'pipe', stderr: 'pipe', cwd: dir.path });
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const reader = child[stream].getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (!text.includes('fluxgate listening')) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    child.kill('SIGTERM');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await child.exited;
    return text;
  } finally {
    clearTimeout(guard);
  }
}

describe('fluxgate serve logs', () => {
  test('JSON lines when stderr is not a terminal', async () => {
    const output = await outputUntilListening(fluxgateArgs('serve', '--config', config));
    const lines = output.trimEnd().split('\n');
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ time: expect.any(String), level: expect.any(String), msg: expect.any(String) });
    expect(lines.map((line) => JSON.parse(line).msg)).toContain('fluxgate listening');
  });

  test('--log-format text: HH:MM:SS.mmm LEVEL message key=value, without colours outside a terminal', async () => {
    const output = await outputUntilListening(fluxgateArgs('serve', '--config', config, '--log-format', 'text'));
    expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  fluxgate listening address=127\.0\.0\.1:\d+ admin=127\.0\.0\.1:\d+ providers=github targets=1 tls=false$/m);
    expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  kubernetes mode=dry-run target="reconcile requests are logged, not sent"$/m);
    expect(output).not.toContain('\u001b');
    expect(output).not.toContain('{"time"');
    expect(output).not.toContain(env.HOOK_SECRET);
  });

  test('FLUXGATE_LOG_FORMAT=text does the same; --log-format json wins over it', async () => {
    expect(await outputUntilListening(fluxgateArgs('serve', '--config', config), { FLUXGATE_LOG_FORMAT: 'text' })).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  fluxgate listening /m);
    const json = await outputUntilListening(fluxgateArgs('serve', '--config', config, '--log-format', 'json'), { FLUXGATE_LOG_FORMAT: 'text' });
    expect(JSON.parse(json.split('\n')[0]!)).toMatchObject({ level: expect.any(String) });
  });

  test('at a terminal: text with coloured levels by default, plain with NO_COLOR', async () => {
    if (!Bun.which('script')) throw new Error('needs script(1) from util-linux to give fluxgate a terminal');
    // script(1) runs fluxgate on a pseudo-terminal and copies what it shows to stdout.
    const shell = (config: string) => fluxgateArgs('serve', '--config', config).map((arg) => `'${arg}'`).join(' ');
    const coloured = await outputUntilListening(['script', '-qefc', shell(configWithState('coloured')), '/dev/null'], {}, 'stdout');
    expect(coloured).toMatch(/\u001b\[2m\d\d:\d\d:\d\d\.\d{3}\u001b\[0m \u001b\[32mINFO \u001b\[0m fluxgate listening /);
    expect(coloured).not.toContain('{"time"');
    const plain = await outputUntilListening(['script', '-qefc', shell(configWithState('plain')), '/dev/null'], { NO_COLOR: '1' }, 'stdout');
    expect(plain).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  fluxgate listening /m);
    expect(plain).not.toContain('\u001b');
  });

  test.each([
    ['--log-format xml', ['--log-format', 'xml'], {}, "error: option '--log-format <format>' argument 'xml' is invalid. Allowed choices are json, text."],
    ['FLUXGATE_LOG_FORMAT=xml', [], { FLUXGATE_LOG_FORMAT: 'xml' }, 'error: FLUXGATE_LOG_FORMAT="xml" is not a log format: use one of json, text'],
  ])('an unknown format (%s) is a usage error (exit 2)', async (_, args, extra, message) => {
    const child = Bun.spawn(fluxgateArgs('serve', '--config', config, ...args), { env: { ...env, ...extra }, stdout: 'pipe', stderr: 'pipe', cwd: dir.path });
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    clearTimeout(guard);
    expect(code).toBe(2);
    expect(stderr).toStartWith(`${message}\n`);
  });
});
