/**
 * The open-file limit the real process serves with, and the request cap it implies. Started with a low soft
 * limit under a higher hard one (as shells and container runtimes often do), it serves with the hard limit;
 * with a low hard limit, waiting requests are capped at half of it, so that a flood of held requests is
 * refused with 503 while descriptors remain to accept, refuse and answer probes.
 */
import { afterAll, afterEach, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForSample } from '../http/http-gateway.ts';
import { head, rawConnect, type RawConnection } from '../http/raw-http.ts';
import { fluxgateArgs, waitForLogLine } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());
const open: RawConnection[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const connection of open.splice(0)) connection.destroy();
  for (const stop of stops.splice(0)) await stop();
});

/** This process's hard limit: a child may be given any hard limit up to it. */
function hardLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((text) => text.startsWith('Max open files'))!;
  const hard = line.split(/\s{2,}/)[2]!;
  return hard === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(hard);
}

/** Starts `fluxgate serve` under `prlimit --nofile=<nofile>`; returns its address and parsed log lines. */
async function serveUnder(nofile: string): Promise<{ url: string; adminUrl: string; port: number; logged: () => Record<string, unknown>[] }> {
  const configPath = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    configPath,
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { value: fd-limit-test-secret } }
`,
  );
  const child = Bun.spawn(['prlimit', `--nofile=${nofile}`, '--', ...fluxgateArgs('serve', '--config', configPath)], { stdout: 'ignore', stderr: 'pipe' });
  stops.push(async () => {
    child.kill('SIGTERM');
    await child.exited;
  });
  const lines: string[] = [];
  const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening', lines);
  const port = Number(String(listening.address).split(':').at(-1));
  const logged = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { url: `http://127.0.0.1:${port}`, adminUrl: `http://${String(listening.admin)}`, port, logged };
}

test('soft limit 64 under a higher hard limit: it serves with the hard limit, logged once', async () => {
  const hard = Math.min(4096, hardLimit());
  expect(hard).toBeGreaterThan(64);
  const gateway = await serveUnder(`64:${hard}`);
  expect(await (await fetch(`${gateway.adminUrl}/metrics`)).text()).toContain(`process_max_fds ${hard}\n`);
  expect(gateway.logged().filter((line) => line.msg === 'open file limit')).toEqual([expect.objectContaining({ soft: hard, hard, maxConcurrentRequests: 512 })]);
  expect(gateway.logged().filter((line) => line.level === 'warn')).toEqual([]);
});

test('hard limit 64: waiting requests are capped at 32 with a warning; the 33rd gets 503 and probes still answer', async () => {
  const gateway = await serveUnder('64:64');
  expect(gateway.logged().filter((line) => line.level === 'warn')).toEqual([expect.objectContaining({ soft: 64, maxConcurrentRequests: 32 })]);
  for (let index = 0; index < 32; index += 1) {
    const connection = await rawConnect(gateway.port);
    open.push(connection);
    connection.write(head('POST /hook/github HTTP/1.1', { Host: 'gw', 'X-GitHub-Event': 'push', 'Content-Length': 100 }) + '{"ref":');
  }
  await waitForSample(gateway.adminUrl, 'fluxgate_http_requests_in_flight', 32);
  const refused = await fetch(`${gateway.url}/hook/github`, { method: 'POST', headers: { 'x-github-event': 'push' }, body: '{}' });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
});
