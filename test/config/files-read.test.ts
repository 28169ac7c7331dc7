/**
 * The config and every file it names (secrets, admin token, TLS certificate and key, kubeconfig and the files a
 * kubeconfig names) are read only when they are regular files, after symlinks, and within a size: a FIFO, a
 * device (/dev/zero), a symlink to one of them, a directory and an oversized file are refused at once, at their
 * line and column, saying why. A refused FIFO has no writer: before, opening it waited for one forever.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { builtinProviders } from '../../plugins/index.ts';
import { loadConfigFile } from '../../src/app/load-config.ts';
import { ConfigError } from '../../src/config/validate.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());
let serial = 0;

/** A path in a fresh subdirectory of the test's directory. */
function fresh(name: string): string {
  const sub = join(dir.path, `case-${serial++}`);
  mkdirSync(sub);
  return join(sub, name);
}

function fifo(name = 'fifo'): string {
  const path = fresh(name);
  expect(Bun.spawnSync(['mkfifo', path]).exitCode).toBe(0);
  return path;
}

function symlinkTo(target: string): string {
  const path = fresh('link');
  symlinkSync(target, path);
  return path;
}

function fileOf(bytes: number, name = 'file'): string {
  const path = fresh(name);
  writeFileSync(path, 'k'.repeat(bytes));
  return path;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Loads a dry-run config with these extra sections and the provider's secret; the problems, or [] when it loads. */
async function problemsOf(sections: Record<string, unknown>, secret: unknown = { value: 'files-read-secret-9d2e' }): Promise<string[]> {
  const path = fresh('fluxgate.yaml');
  writeFileSync(path, toYaml({ kubernetes: { mode: 'dry-run' }, providers: [{ name: 'github', type: 'github', secret }], ...sections }));
  try {
    await loadConfigFile({ path, builtins: builtinProviders, env: { HOME: dir.path } });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n').map((line) => line.replace(`${path}:`, '').replace(/^\d+:\d+ /, ''));
  }
}

const notRegular = [
  ['a FIFO with no writer', () => fifo(), 'a named pipe (FIFO), not a regular file'],
  ['/dev/zero', () => '/dev/zero', 'a character device, not a regular file'],
  ['a symlink to /dev/zero', () => symlinkTo('/dev/zero'), 'a character device, not a regular file'],
  ['a symlink to a FIFO', () => symlinkTo(fifo()), 'a named pipe (FIFO), not a regular file'],
  ['a directory', () => dir.path, 'a directory, not a regular file'],
] as const;

describe('secret files', () => {
  test.each(notRegular)('%s is refused at once, saying what it is', async (_name, make, reason) => {
    const path = make();
    expect(await problemsOf({}, { file: path })).toEqual([`providers[0].secret: cannot read secret file ${path}: ${reason}`]);
  });

  test('a secret file over 64 KiB is refused; one of 64 KiB, and one reached through symlinks (a mounted Secret), are read', async () => {
    const large = fileOf(64 * KiB + 1);
    expect(await problemsOf({}, { file: large })).toEqual([`providers[0].secret: cannot read secret file ${large}: larger than 64 KiB, the most fluxgate reads from it`]);
    expect(await problemsOf({}, { file: fileOf(64 * KiB) })).toEqual([]);
    expect(await problemsOf({}, { file: symlinkTo(symlinkTo(fileOf(40))) })).toEqual([]);
  });

  test('admin.token from a FIFO or /dev/zero is refused the same way', async () => {
    const pipe = fifo();
    expect(await problemsOf({ admin: { token: { file: pipe } } })).toEqual([`admin.token: cannot read secret file ${pipe}: a named pipe (FIFO), not a regular file`]);
    expect(await problemsOf({ admin: { token: { file: '/dev/zero' } } })).toEqual(['admin.token: cannot read secret file /dev/zero: a character device, not a regular file']);
  });
});

describe('TLS files', () => {
  test('a certificate from /dev/zero and a key from a FIFO are refused; a file over 1 MiB too', async () => {
    const pipe = fifo('tls.key');
    expect(await problemsOf({ server: { tls: { certFile: '/dev/zero', keyFile: pipe } } })).toEqual([
      'server.tls.certFile: cannot read certificate file /dev/zero: a character device, not a regular file',
      `server.tls.keyFile: cannot read key file ${pipe}: a named pipe (FIFO), not a regular file`,
    ]);
    const large = fileOf(MiB + 1, 'tls.crt');
    expect(await problemsOf({ server: { tls: { certFile: large, keyFile: large } } })).toEqual([
      `server.tls.certFile: cannot read certificate file ${large}: larger than 1 MiB, the most fluxgate reads from it`,
      `server.tls.keyFile: cannot read key file ${large}: larger than 1 MiB, the most fluxgate reads from it`,
    ]);
  });
});

describe('kubeconfig and the files it names', () => {
  /** A kubeconfig of one context whose cluster and user name these files. */
  function kubeconfigNaming(files: { ca?: string; cert?: string; key?: string; tokenFile?: string }): string {
    const path = fresh('kubeconfig');
    writeFileSync(
      path,
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'c',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', ...(files.ca ? { 'certificate-authority': files.ca } : {}) } }],
        users: [{ name: 'u', user: { ...(files.cert ? { 'client-certificate': files.cert } : {}), ...(files.key ? { 'client-key': files.key } : {}), ...(files.tokenFile ? { 'token-file': files.tokenFile } : {}) } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      }),
    );
    return path;
  }
  const kubeconfig = (path: string) => ({ kubernetes: { mode: 'kubeconfig', kubeconfig: path } });

  test.each(notRegular)('a kubeconfig that is %s is refused', async (_name, make, reason) => {
    const path = make();
    expect(await problemsOf(kubeconfig(path))).toEqual([`kubernetes.kubeconfig: cannot read kubeconfig ${path}: ${reason}`]);
  });

  test('a kubeconfig over 4 MiB is refused', async () => {
    const large = fileOf(4 * MiB + 1);
    expect(await problemsOf(kubeconfig(large))).toEqual([`kubernetes.kubeconfig: cannot read kubeconfig ${large}: larger than 4 MiB, the most fluxgate reads from it`]);
  });

  test('the CA, client certificate, client key and token file it names: /dev/zero, a FIFO, a symlink to /dev/zero, over 1 MiB', async () => {
    const where = (path: string) => `kubernetes.kubeconfig: kubeconfig ${path}, context c`;
    let path = kubeconfigNaming({ ca: '/dev/zero' });
    expect(await problemsOf(kubeconfig(path))).toEqual([`${where(path)}: cannot read certificate-authority /dev/zero: a character device, not a regular file`]);
    const pipe = fifo('client.key');
    path = kubeconfigNaming({ cert: fileOf(100, 'client.crt'), key: pipe });
    expect(await problemsOf(kubeconfig(path))).toEqual([`${where(path)}: cannot read client-key ${pipe}: a named pipe (FIFO), not a regular file`]);
    const link = symlinkTo('/dev/zero');
    path = kubeconfigNaming({ cert: link, key: fileOf(100, 'client.key') });
    expect(await problemsOf(kubeconfig(path))).toEqual([`${where(path)}: cannot read client-certificate ${link}: a character device, not a regular file`]);
    const large = fileOf(MiB + 1, 'token');
    path = kubeconfigNaming({ tokenFile: large });
    expect(await problemsOf(kubeconfig(path))).toEqual([`${where(path)}: cannot read token-file ${large}: larger than 1 MiB, the most fluxgate reads from it`]);
  });
});

describe('the config itself', () => {
  test('serve refuses a config that is a FIFO, or a symlink to one, at once (no writer is waited for); /dev/zero is not read', async () => {
    for (const path of [fifo('fluxgate.yaml'), symlinkTo(fifo('fluxgate.yaml'))]) {
      const error = await loadConfigFile({ path, builtins: builtinProviders, env: {} }).catch((caught) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(`${path}: cannot read config: a named pipe (FIFO), not a regular file`);
    }
    const error = await loadConfigFile({ path: '/dev/zero', builtins: builtinProviders, env: {} }).catch((caught) => caught);
    expect(error.message).toBe('/dev/zero: cannot read config: a character device, not a regular file');
  });
});
