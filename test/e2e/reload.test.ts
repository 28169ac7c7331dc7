/**
 * Live reload as an operator meets it: the config saved by an editor (a new file renamed over the old), a
 * Kubernetes volume update (a `..data` symlink swapped), a rotated secret file, SIGHUP, a plugin changed or
 * added (loaded by SIGHUP only, and first in a worker under a time limit) — and
 * a config with problems, which is refused with its `file:line:col` while the running one keeps serving.
 * File events are real (inotify), so these tests wait for the reload to land; they never sleep for it.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { chmodSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { startGateway, type Gateway } from '../../src/app/gateway.ts';
import { fluxgateArgs, waitForLogLine } from '../support/cli.ts';
import { memoryLogger } from '../support/memory-logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';
import { githubWebhook, post } from '../support/webhooks.ts';

// Each test waits for real file events and a process or two; a busy machine needs more than bun's 5 s.
setDefaultTimeout(20_000);

const SECRET = 'reload-test-secret-7b1d';
const ROTATED = 'reload-rotated-secret-0c4e';

const running: { gateway: Gateway; remove(): void }[] = [];
afterEach(async () => {
  for (const { gateway, remove } of running.splice(0)) {
    await gateway.shutdown();
    remove();
  }
});

/** A dry-run config with these providers (`name: type` + secret ref), all feeding one target. */
function config(providers: { name: string; secret?: string; type?: string }[], extra = ''): string {
  const lines = providers.map((provider) => `  - { name: ${provider.name}, type: ${provider.type ?? 'github'}, secret: ${provider.secret ?? '{ env: HOOK_SECRET }'} }`);
  return `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
${extra}providers:
${lines.join('\n')}
targets:
  - name: app
    providers: [${providers.map((provider) => provider.name).join(', ')}]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`;
}

/** Writes `text` to `path` the way editors save: a new file renamed over the old one. */
function saveByRename(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function start(configPath: string, dir: { path: string; remove(): void }) {
  const log = memoryLogger();
  const gateway = await startGateway({ builtins: builtinProviders, configPath, version: 'test', env: { HOME: dir.path, HOOK_SECRET: SECRET }, log, random: () => 0.5 });
  running.push({ gateway, remove: () => dir.remove() });
  const metrics = async () => (await fetch(`${gateway.adminUrl}/metrics`)).text();
  /** Waits until `count` reloads with this outcome have been counted (the file event and the settle time are real). */
  const reloaded = async (outcome: 'success' | 'failure', count = 1) => {
    const series = `fluxgate_config_reloads_total{outcome="${outcome}"} `;
    const counted = (text: string) => Number(text.split('\n').find((line) => line.startsWith(series))?.slice(series.length) ?? 0);
    let text = await metrics();
    const deadline = Date.now() + 10_000;
    while (counted(text) < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} ${outcome} reload(s), saw ${counted(text)}`);
      await Bun.sleep(5);
      text = await metrics();
    }
  };
  const hook = (name: string, secret = SECRET) => post(`${gateway.url}/hook/${name}`, githubWebhook(secret));
  const page = async () => (await fetch(`${gateway.adminUrl}/`)).text();
  return { gateway, log, hook, reloaded, page, metrics };
}

describe('a config saved by rename-replace', () => {
  test('adds and removes routes without a restart', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    writeFileSync(path, config([{ name: 'github' }]));
    const { hook, reloaded, page } = await start(path, dir);
    expect((await hook('github')).status).toBe(202);
    expect((await hook('second')).status).toBe(404);

    saveByRename(path, config([{ name: 'github' }, { name: 'second' }]));
    await reloaded('success');
    expect((await hook('second')).status).toBe(202);

    saveByRename(path, config([{ name: 'second' }]));
    await reloaded('success', 2);
    expect((await hook('github')).status).toBe(404);
    expect((await hook('second')).status).toBe(202);
    expect(await page()).toContain('generation 2');
  });

  test('a config with problems is refused at its line and column, and the running one keeps serving', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    writeFileSync(path, config([{ name: 'github' }]));
    const { hook, reloaded, log, page } = await start(path, dir);

    saveByRename(path, config([{ name: 'github' }]).replace('targets:', 'targest:'));
    await reloaded('failure');
    const refused = log.lines.find((line) => line.msg === 'config reload refused: the running config keeps serving');
    expect(refused?.problems).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${path}:\\d+:\\d+ `))]));
    expect((await hook('github')).status).toBe(202);
    expect(await page()).toContain('config reload refused');

    saveByRename(path, config([{ name: 'github' }, { name: 'second' }]));
    await reloaded('success');
    expect((await hook('second')).status).toBe(202);
  });

  test('a refused reload stops being shown once the file is put back as it was (no reload happens: the same config serves)', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    const good = config([{ name: 'github' }]);
    writeFileSync(path, good);
    const { hook, reloaded, log, page } = await start(path, dir);

    saveByRename(path, good.replace('targets:', 'targest:'));
    await reloaded('failure');
    expect(await page()).toContain('config reload refused');

    saveByRename(path, good);
    await until(() => log.lines.some((line) => line.msg === 'config files back to the running config: the refused reload no longer applies'), 'the restore to be noticed');
    const shown = await page();
    expect(shown).not.toContain('config reload refused');
    expect(shown).toContain('config files back to the running config');
    expect((await hook('github')).status).toBe(202);
    // Nothing was reloaded: still the config it started with, and one failure counted.
    expect(await page()).toContain('generation 0');
  });

  test('a config replaced by a link to a password file is refused at a position: none of its lines reaches the log or the page', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    writeFileSync(path, config([{ name: 'github' }]));
    const hash = '$6$Hq0rT2x9$W3nQ8vLp1zK5mY7cR4tB6dF0gH2jS9aE1uI3oP5lX7kV9bN';
    writeFileSync(join(dir.path, 'shadow'), `root:${hash}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`);
    const { hook, reloaded, log, page } = await start(path, dir);

    symlinkSync(join(dir.path, 'shadow'), `${path}.link`);
    renameSync(`${path}.link`, path);
    await reloaded('failure');
    const refused = log.lines.find((line) => line.msg === 'config reload refused: the running config keeps serving');
    expect(refused?.problems).toEqual([expect.stringMatching(new RegExp(`^${path}:1:1 the file is not a fluxgate config`))]);
    const shown = await page();
    expect(shown).toContain(`${path}:1:1 the file is not a fluxgate config`);
    for (const text of [JSON.stringify(log.lines), shown]) {
      expect(text).not.toContain('Hq0rT2x9');
      expect(text).not.toContain('daemon:');
    }
    expect((await hook('github')).status).toBe(202);
  });

  test('settings read at start-up are reported as needing a restart; the rest applies', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    writeFileSync(path, config([{ name: 'github' }]));
    const { hook, reloaded, log, page } = await start(path, dir);
    saveByRename(path, config([{ name: 'github' }, { name: 'second' }]).replace('adminAddress: 127.0.0.1:0 }', 'adminAddress: 127.0.0.1:0, maxBodySize: 1MiB }'));
    await reloaded('success');
    expect(log.lines.find((line) => line.level === 'warn' && String(line.msg).includes('until fluxgate restarts'))?.settings).toEqual(['server.maxBodySize']);
    expect(await page()).toContain('restart needed</b> for server.maxBodySize');
    expect((await hook('second')).status).toBe(202);
  });
});

test('a Kubernetes volume update (the ..data symlink swapped) is noticed', async () => {
  const dir = tempDir();
  // The layout kubelet's atomic writer makes for a ConfigMap volume.
  mkdirSync(join(dir.path, '..2026_01'));
  writeFileSync(join(dir.path, '..2026_01', 'fluxgate.yaml'), config([{ name: 'github' }]));
  symlinkSync('..2026_01', join(dir.path, '..data'));
  symlinkSync('..data/fluxgate.yaml', join(dir.path, 'fluxgate.yaml'));
  const { hook, reloaded } = await start(join(dir.path, 'fluxgate.yaml'), dir);
  expect((await hook('second')).status).toBe(404);

  mkdirSync(join(dir.path, '..2026_02'));
  writeFileSync(join(dir.path, '..2026_02', 'fluxgate.yaml'), config([{ name: 'github' }, { name: 'second' }]));
  symlinkSync('..2026_02', join(dir.path, '..data_tmp'));
  renameSync(join(dir.path, '..data_tmp'), join(dir.path, '..data'));
  await reloaded('success');
  expect((await hook('second')).status).toBe(202);
});

test('a rotated secret file takes effect: the old secret is refused, the new one accepted', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'fluxgate.yaml');
  mkdirSync(join(dir.path, 'secrets'));
  writeFileSync(join(dir.path, 'secrets', 'github'), `${SECRET}\n`);
  writeFileSync(path, config([{ name: 'github', secret: '{ file: secrets/github }' }]));
  const { hook, reloaded, log } = await start(path, dir);
  expect((await hook('github')).status).toBe(202);

  saveByRename(join(dir.path, 'secrets', 'github'), `${ROTATED}\n`);
  await reloaded('success');
  expect((await hook('github', SECRET)).status).toBe(401);
  expect((await hook('github', ROTATED)).status).toBe(202);
  expect(JSON.stringify(log.lines)).not.toContain(ROTATED);
});

describe('a file that is not a regular file', () => {
  /** Replaces `path` by a symlink to `target`, as a volume swap or an attacker with write access would. */
  const swapForSymlink = (path: string, target: string) => {
    symlinkSync(target, `${path}.tmp`);
    renameSync(`${path}.tmp`, path);
  };

  test('a secret file swapped for /dev/zero or a FIFO: the reload is refused saying so (nothing read from the device), and both ports keep answering', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    mkdirSync(join(dir.path, 'secrets'));
    writeFileSync(join(dir.path, 'secrets', 'github'), `${SECRET}\n`);
    writeFileSync(path, config([{ name: 'github', secret: '{ file: secrets/github }' }]));
    const { gateway, hook, reloaded } = await start(path, dir);

    swapForSymlink(join(dir.path, 'secrets', 'github'), '/dev/zero');
    await reloaded('failure');
    await expect(gateway.reload('SIGHUP')).resolves.toMatchObject({ last: { outcome: 'failure', problems: [expect.stringMatching(/providers\[0\]\.secret: cannot read secret file secrets\/github: a character device, not a regular file$/)] } });
    expect(Bun.spawnSync(['mkfifo', join(dir.path, 'secrets', 'pipe')]).exitCode).toBe(0);
    swapForSymlink(join(dir.path, 'secrets', 'github'), 'pipe');
    const status = await gateway.reload('SIGHUP');
    expect(status.last?.problems).toEqual([expect.stringMatching(/providers\[0\]\.secret: cannot read secret file secrets\/github: a named pipe \(FIFO\), not a regular file$/)]);
    expect((await hook('github')).status).toBe(202);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.adminUrl}/healthz`)).status).toBe(200);
  });

  test('a config swapped for a symlink to a FIFO: SIGHUP is answered with the refusal at once, no writer waited for, webhooks still served', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'fluxgate.yaml');
    writeFileSync(path, config([{ name: 'github' }]));
    const { gateway, hook } = await start(path, dir);
    expect(Bun.spawnSync(['mkfifo', join(dir.path, 'pipe')]).exitCode).toBe(0);
    swapForSymlink(path, 'pipe');
    const status = await gateway.reload('SIGHUP');
    expect(status.last).toMatchObject({ trigger: 'SIGHUP', outcome: 'failure', problems: [`${path}: cannot read config: a named pipe (FIFO), not a regular file`] });
    expect((await hook('github')).status).toBe(202);
  });
});

/** A plugin file as its owner writes it (mode 644 whatever the umask), saved by rename. */
function writePlugin(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  chmodSync(`${path}.tmp`, 0o644);
  renameSync(`${path}.tmp`, path);
}

/** A directory with pluginsDir `plugins` (mode 700) holding docs/examples/acme.ts, and a config with an acme provider. */
function acmeSetup(): { dir: { path: string; remove(): void }; path: string; plugins: string; acme: string } {
  const dir = tempDir();
  const path = join(dir.path, 'fluxgate.yaml');
  const plugins = join(dir.path, 'plugins');
  mkdirSync(plugins, { mode: 0o700 });
  const acme = readFileSync(join(import.meta.dir, '..', '..', 'docs', 'examples', 'acme.ts'), 'utf8');
  writePlugin(join(plugins, 'acme.ts'), acme);
  writeFileSync(path, config([{ name: 'acme', type: 'acme' }], 'pluginsDir: plugins\n').replace('    resources:', '    match: { repository: acme-org/app }\n    resources:'));
  return { dir, path, plugins, acme };
}

/** Posts a signed Acme push naming its event in `eventHeader`; the status. */
async function acmePush(url: string, eventHeader: string): Promise<number> {
  const { createHmac, randomUUID } = await import('node:crypto');
  const body = JSON.stringify({ repository: { full_name: 'acme-org/app', clone_url: 'https://git.acme.example/acme-org/app.git' }, ref: 'refs/heads/main', after: 'a'.repeat(40), commits: [] });
  const response = await fetch(`${url}/hook/acme`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', [eventHeader]: 'push', 'x-acme-delivery': randomUUID(), 'x-acme-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
  });
  return response.status;
}

test('a plugin changed or added in pluginsDir is not loaded by the file watch, which says to send SIGHUP; SIGHUP loads it', async () => {
  const { dir, path, plugins, acme } = acmeSetup();
  const { gateway, log } = await start(path, dir);
  expect(await acmePush(gateway.url, 'x-acme-event')).toBe(202);

  writePlugin(join(plugins, 'acme.ts'), acme.replace("headers.get('x-acme-event')", "headers.get('x-acme-kind')"));
  writePlugin(join(plugins, 'beta.ts'), acme.replace("id: 'acme'", "id: 'beta'"));
  const notice = (changes: string[]) => log.lines.some((line) => line.msg === 'a plugin changed; send SIGHUP to load it' && JSON.stringify(line.changes) === JSON.stringify(changes));
  await until(() => notice([join(plugins, 'acme.ts'), join(plugins, 'beta.ts')]), 'the file watch to notice both plugin files');
  // Still the code loaded at start.
  expect(await acmePush(gateway.url, 'x-acme-event')).toBe(202);
  expect(await acmePush(gateway.url, 'x-acme-kind')).toBe(200);

  expect(await gateway.reload('SIGHUP')).toMatchObject({ generation: 1, last: { outcome: 'success' } });
  expect(await acmePush(gateway.url, 'x-acme-kind')).toBe(202);
  expect(await acmePush(gateway.url, 'x-acme-event')).toBe(200); // no event header any more: ignored
  writeFileSync(path, readFileSync(path, 'utf8').replace('type: acme }', 'type: beta }'));
  expect(await gateway.reload('SIGHUP')).toMatchObject({ generation: 2, last: { outcome: 'success' } });
});

test('a plugin that never finishes loading (`while (true) {}`): the file watch leaves it alone, SIGHUP is refused with the reason after its bound, and both ports answered meanwhile; SIGTERM still stops the process', async () => {
  const { dir, path, plugins } = acmeSetup();
  const child = Bun.spawn(fluxgateArgs('serve', '--config', path), { env: { PATH: process.env.PATH ?? '', HOME: dir.path, HOOK_SECRET: SECRET }, stdout: 'ignore', stderr: 'pipe' });
  try {
    const lines: string[] = [];
    const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening', lines);
    const health = async () => [(await fetch(`http://${listening.address}/healthz`)).status, (await fetch(`http://${listening.admin}/healthz`)).status];
    writePlugin(join(plugins, 'loop.ts'), 'while (true) {}\nexport default () => ({});\n');
    await waitForLogLine(child.stderr, (line) => line.msg === 'a plugin changed; send SIGHUP to load it', lines);
    expect(await health()).toEqual([200, 200]);

    child.kill('SIGHUP');
    expect(await health()).toEqual([200, 200]);
    const refused = await waitForLogLine(child.stderr, (line) => line.msg === 'config reload refused: the running config keeps serving', lines);
    expect((refused.problems as string[])[0]).toMatch(new RegExp(`^${path}:\\d+:\\d+ pluginsDir: plugin ${join(plugins, 'loop.ts')}: its import did not finish within 5 s$`));
    expect(await health()).toEqual([200, 200]);
    expect(await acmePush(`http://${listening.address}`, 'x-acme-event')).toBe(202);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
    dir.remove();
  }
});

test('SIGHUP reloads the config and the process keeps serving', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'fluxgate.yaml');
  writeFileSync(path, config([{ name: 'github' }]));
  const child = Bun.spawn(fluxgateArgs('serve', '--config', path), { env: { PATH: process.env.PATH ?? '', HOME: dir.path, HOOK_SECRET: SECRET }, stdout: 'ignore', stderr: 'pipe' });
  try {
    const lines: string[] = [];
    const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening', lines);
    child.kill('SIGHUP');
    const reloaded = await waitForLogLine(child.stderr, (line) => line.msg === 'config reloaded', lines);
    expect(reloaded).toMatchObject({ trigger: 'SIGHUP', generation: 1 });
    expect((await post(`http://${listening.address}/hook/github`, githubWebhook(SECRET))).status).toBe(202);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  } finally {
    child.kill();
    dir.remove();
  }
});
