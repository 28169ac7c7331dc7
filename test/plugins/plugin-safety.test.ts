/**
 * What fluxgate refuses to load from pluginsDir, since a plugin runs with its rights: a directory or file others
 * can write, a file owned by another user, a file that is not a regular one or is oversized, an import that never
 * finishes; and a plugin whose `verify` accepts what its own `sign` made with another secret, or no signature.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { loadConfigFile } from '../../src/app/load-config.ts';
import { loadCatalog } from '../../src/provider-kit/catalog.ts';
import { ConfigError } from '../../src/config/validate.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());
let serial = 0;

const SIGNATURE = "{ header: 'X-Acme-Signature', algorithms: ['sha256'], prefixed: true }";
/** A provider as a user writes one; `verify` is replaced to make the unsafe ones. */
function pluginSource(id: string, verify = `(request, { secret }) => kit.hmacHeader.verify(request, ${SIGNATURE}, secret)`): string {
  return `export default (kit) => ({
  id: '${id}',
  defaultEvents: ['push'],
  secretFields: ['secret'],
  describe: (headers) => ({ event: 'push', deliveryId: headers.get('x-acme-delivery') ?? undefined }),
  verify: ${verify},
  parse: () => ({ events: [] }),
  sign: (body, { secret }) => ({ 'X-Acme-Signature': kit.hmacHeader.sign(${SIGNATURE}, secret, body) }),
});
`;
}

/** A fresh pluginsDir (mode 700) holding these files (mode 644 unless given). */
function pluginsDir(files: Record<string, string | { text: string; mode: number }>, mode = 0o700): string {
  const root = join(dir.path, `plugins-${serial++}`);
  mkdirSync(root);
  chmodSync(root, mode);
  for (const [name, content] of Object.entries(files)) {
    const { text, mode: fileMode } = typeof content === 'string' ? { text: content, mode: 0o644 } : content;
    writeFileSync(join(root, name), text);
    chmodSync(join(root, name), fileMode);
  }
  return root;
}

const load = (root: string, options: Parameters<typeof loadCatalog>[4] = {}) => loadCatalog(builtinProviders, providerKit, root, '/', options);

describe('who may write pluginsDir', () => {
  test('a directory writable by group or by others is refused with the reason, plugins unread', async () => {
    for (const mode of [0o770, 0o707, 0o777]) {
      const root = pluginsDir({ 'acme.ts': pluginSource('acme') }, mode);
      await expect(load(root)).rejects.toThrow(`pluginsDir ${root}: writable by group or others (mode ${mode.toString(8)}); plugins run with fluxgate's rights, so only their owner may write to them (chmod go-w)`);
    }
  });

  test('a plugin file writable by group or others is refused; 644 and 600 load', async () => {
    const root = pluginsDir({ 'acme.ts': { text: pluginSource('acme'), mode: 0o664 } });
    await expect(load(root)).rejects.toThrow(`plugin ${join(root, 'acme.ts')}: writable by group or others (mode 664); plugins run with fluxgate's rights`);
    const fine = pluginsDir({ 'acme.ts': pluginSource('acme'), 'beta.ts': { text: pluginSource('beta'), mode: 0o600 } }, 0o755);
    expect([...(await load(fine)).plugins.keys()]).toEqual(['acme', 'beta']);
  });

  test('a plugin file owned by another user is refused; one owned by root or by fluxgate\'s user loads', async () => {
    const root = pluginsDir({ 'acme.ts': pluginSource('acme') });
    const uid = process.getuid!();
    if (uid === 0) {
      // Root may hand the file to someone else, as an operator's mistake would.
      chownSync(join(root, 'acme.ts'), 65534, 65534);
      await expect(load(root)).rejects.toThrow(`plugin ${join(root, 'acme.ts')}: owned by uid 65534, neither fluxgate's user (uid 0) nor root`);
      // Root-owned files are fine for a gateway running as another user.
      const rootOwned = pluginsDir({ 'acme.ts': pluginSource('acme') });
      expect((await load(rootOwned, { uid: 65532 })).plugins.has('acme')).toBe(true);
    } else {
      // Not root: the files are ours, so a gateway running as another user must refuse them.
      await expect(load(root, { uid: uid + 1 })).rejects.toThrow(`owned by uid ${uid}, neither fluxgate's user (uid ${uid + 1}) nor root`);
      expect((await load(root)).plugins.has('acme')).toBe(true);
    }
  });
});

/** Whether this test may mount a file system (root with the capability): then a read-only mount is tested for real. */
function canMount(): boolean {
  const probe = join(dir.path, 'mount-probe');
  mkdirSync(probe);
  if (Bun.spawnSync(['mount', '-t', 'tmpfs', 'tmpfs', probe], { stderr: 'ignore' }).exitCode !== 0) return false;
  Bun.spawnSync(['umount', probe]);
  return true;
}

test.skipIf(!canMount())('a read-only mount is not writable whatever its modes say: a ConfigMap volume (directory mode 777, files behind ..data symlinks) loads', async () => {
  const root = join(dir.path, 'configmap');
  mkdirSync(root);
  expect(Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', 'mode=777', 'tmpfs', root]).exitCode).toBe(0);
  try {
    // The layout kubelet's atomic writer makes, then mounted read-only as kubelet mounts it.
    mkdirSync(join(root, '..2030_01'));
    writeFileSync(join(root, '..2030_01', 'acme.ts'), pluginSource('acme'));
    chmodSync(join(root, '..2030_01', 'acme.ts'), 0o666);
    symlinkSync('..2030_01', join(root, '..data'));
    symlinkSync('..data/acme.ts', join(root, 'acme.ts'));
    await expect(load(root)).rejects.toThrow(`pluginsDir ${root}: writable by group or others (mode 777)`);
    expect(Bun.spawnSync(['mount', '-o', 'remount,ro', root]).exitCode).toBe(0);
    expect([...(await load(root)).plugins.keys()]).toEqual(['acme']);
  } finally {
    Bun.spawnSync(['umount', root]);
  }
});

describe('what a plugin file may be', () => {
  test('a FIFO (no writer) or a file over 1 MiB is refused at once', async () => {
    const root = pluginsDir({});
    expect(Bun.spawnSync(['mkfifo', join(root, 'pipe.ts')]).exitCode).toBe(0);
    await expect(load(root)).rejects.toThrow(`plugin ${join(root, 'pipe.ts')}: a named pipe (FIFO), not a regular file`);
    const large = pluginsDir({ 'large.js': `${pluginSource('large')}//${'x'.repeat(1024 * 1024)}\n` });
    await expect(load(large)).rejects.toThrow(`plugin ${join(large, 'large.js')}: larger than 1 MiB, the most fluxgate reads from it`);
  });

  test('an import that never finishes fails the load after the bound, and the process goes on', async () => {
    const root = pluginsDir({ 'acme.ts': pluginSource('acme'), 'loop.ts': 'while (true) {}\nexport default () => ({});\n' });
    await expect(load(root, { timeoutMs: 1000 })).rejects.toThrow(`plugin ${join(root, 'loop.ts')}: its import did not finish within 1 s`);
    const factoryLoops = pluginsDir({ 'spin.ts': 'export default () => { for (;;) {} };\n' });
    await expect(load(factoryLoops, { timeoutMs: 1000 })).rejects.toThrow(`plugin ${join(factoryLoops, 'spin.ts')}: its import did not finish within 1 s`);
    const throws = pluginsDir({ 'boom.ts': "throw new Error('boom at import');\n" });
    await expect(load(throws)).rejects.toThrow(`plugin ${join(throws, 'boom.ts')}: its import failed: boom at import`);
  });
});

describe("a plugin's verify, checked with its own sign", () => {
  /** The problems of a config with one provider of the plugin in `root`, or [] when it loads. */
  async function problems(root: string, type: string): Promise<string[]> {
    const path = join(dir.path, `fluxgate-${serial++}.yaml`);
    writeFileSync(path, `kubernetes: { mode: dry-run }\npluginsDir: ${root}\nproviders:\n  - { name: hook, type: ${type}, secret: { value: plugin-check-secret-4c1d } }\n`);
    try {
      await loadConfigFile({ path, builtins: builtinProviders, env: {} });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.message.split('\n').map((line) => line.replace(/^\S+:\d+:\d+ /, ''));
    }
  }

  test('a verify that always says yes is refused: it accepts a delivery without a signature', async () => {
    const root = pluginsDir({ 'yes.ts': pluginSource('yes', '() => ({ ok: true })') });
    expect(await problems(root, 'yes')).toEqual([`providers[0].type: type "yes" (plugin ${join(root, 'yes.ts')}) is refused: verify accepts a delivery without a signature`]);
  });

  test('a verify that only looks for the header, or answers yes asynchronously, is refused: it accepts a delivery signed with another secret', async () => {
    const root = pluginsDir({
      'present.ts': pluginSource('present', "(request) => (request.headers.has('x-acme-signature') ? { ok: true } : { ok: false, reason: 'unsigned' })"),
      'later.ts': pluginSource('later', "async (request) => ({ ok: request.headers.has('x-acme-signature'), reason: 'unsigned' })"),
    });
    expect(await problems(root, 'present')).toEqual([`providers[0].type: type "present" (plugin ${join(root, 'present.ts')}) is refused: verify accepts a delivery signed with a different secret`]);
    expect(await problems(root, 'later')).toEqual([`providers[0].type: type "later" (plugin ${join(root, 'later.ts')}) is refused: verify accepts a delivery signed with a different secret`]);
  });

  test('a verify that checks the signature loads; the secret is named nowhere in the messages', async () => {
    const root = pluginsDir({ 'acme.ts': pluginSource('acme') });
    expect(await problems(root, 'acme')).toEqual([]);
    const yes = pluginsDir({ 'yes.ts': pluginSource('yes', '() => ({ ok: true })') });
    expect((await problems(yes, 'yes')).join('\n')).not.toContain('plugin-check-secret');
  });
});
