/**
 * A signed delivery whose ref carries characters a browser or a terminal acts on instead of showing them —
 * bidirectional overrides, isolates and marks (which reorder what follows), line and paragraph separators, C1
 * controls — next to markup and an escape sequence: the status page, the delivery's page and `--log-format text`
 * show each as `\uXXXX`, and markup stays text.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fluxgateArgs } from '../support/cli.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubPushWith, post } from '../support/webhooks.ts';

const SECRET = 'unsafe-characters-secret-7a2d';
const CONFIG = `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers: [{ name: github, type: github, secret: { env: HOOK_SECRET } }]
targets: [{ name: app, providers: [github], resources: [{ kind: GitRepository, name: app, namespace: flux-system }] }]
`;
/** Each character the page and the text log must not pass through as it is. */
const UNSAFE = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c', '\u2028', '\u2029', '\u0080', '\u0085', '\u009b', '\u009f', '\u001b'];
const BRANCH = `main${UNSAFE.join('')}<script>alert(1)</script>`;
const ESCAPED = UNSAFE.map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
const RAW = new RegExp(`[${UNSAFE.join('')}]`);

let gateway: TestGateway;
const dir = tempDir();

beforeAll(async () => {
  gateway = await startTestGateway({ config: CONFIG, env: { HOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await gateway.stop();
  dir.remove();
});

test('the status page and the delivery page show each as \\uXXXX, and markup as text', async () => {
  const hook = githubPushWith(SECRET, (payload) => void (payload.ref = `refs/heads/${BRANCH}`));
  expect((await post(gateway.hook('github'), hook)).status).toBe(202);
  for (const path of ['/', `/deliveries/${hook.headers['x-github-delivery']}`]) {
    const html = await (await fetch(`${gateway.adminUrl}${path}`)).text();
    expect(html).not.toMatch(RAW);
    expect(html).toContain(`refs/heads/main${ESCAPED}&lt;script&gt;alert(1)&lt;/script&gt;`);
  }
  // The JSON API hands the value over as it came: a client decides how to show it.
  const { deliveries } = (await (await fetch(`${gateway.adminUrl}/api/deliveries`)).json()) as { deliveries: { ref?: string }[] };
  expect(deliveries[0]!.ref).toBe(`refs/heads/${BRANCH}`);
});

test('fluxgate serve --log-format text writes each as \\uXXXX on one line', async () => {
  const config = join(dir.path, 'fluxgate.yaml');
  writeFileSync(config, CONFIG);
  const child = Bun.spawn(fluxgateArgs('serve', '--config', config, '--log-format', 'text'), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir.path, HOOK_SECRET: SECRET },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  let output = '';
  const readUntil = async (wanted: RegExp) => {
    while (!wanted.test(output)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`fluxgate ended before ${wanted}:\n${output}`);
      output += decoder.decode(value, { stream: true });
    }
    return wanted.exec(output)!;
  };
  try {
    const [, port] = await readUntil(/fluxgate listening address=127\.0\.0\.1:(\d+) /);
    const hook = githubPushWith(SECRET, (payload) => void (payload.ref = `refs/heads/${BRANCH}`));
    expect((await post(`http://127.0.0.1:${port}/hook/github`, hook)).status).toBe(202);
    const [line] = await readUntil(/^.* webhook accepted .*\n/m);
    expect(line).not.toMatch(RAW);
    expect(line).toContain(`ref="refs/heads/main${ESCAPED}<script>alert(1)</script>"`);
    expect(line.trimEnd().split('\n')).toHaveLength(1);
  } finally {
    clearTimeout(guard);
    child.kill('SIGTERM');
    await child.exited;
  }
}, 40_000);
