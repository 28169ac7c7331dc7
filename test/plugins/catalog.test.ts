import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../src/plugins/catalog.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());

// A runtime plugin as a user writes it: no package imports, everything through `host`.
const pluginSource = `
export default function createAcmePlugin(host) {
  return {
    id: 'acme',
    defaultEvents: ['push'],
    secretFields: ['secret'],
    verify(request, secrets) {
      const given = request.headers.get('x-acme-signature') ?? '';
      return host.safeEqual(given, host.hmac('sha256', secrets.secret ?? '', request.body, 'hex')) ? { ok: true } : { ok: false, reason: 'bad acme signature' };
    },
    describe: (request) => ({ event: 'push', deliveryId: request.headers.get('x-acme-id') ?? undefined }),
    parse(request, info) {
      const payload = host.json(request.body);
      return { event: info.event, repositories: [payload.repo], ref: payload.ref, branch: payload.ref.replace('refs/heads/', '') };
    },
    sample: () => ({ body: new TextEncoder().encode('{"repo":"acme/app","ref":"refs/heads/main"}'), headers: {} }),
    sign: (body, secrets) => ({ 'x-acme-signature': host.hmac('sha256', secrets.secret ?? '', body, 'hex') }),
  };
}
`;

describe('plugin catalog', () => {
  test('holds the built-in plugins', async () => {
    const catalog = await loadCatalog(undefined, dir.path);
    expect([...catalog.keys()].sort()).toEqual(['generic', 'generic-hmac', 'github', 'gitlab']);
  });

  test('loads a plugin from pluginsDir, relative to the config directory, and it works', async () => {
    writeFileSync(join(dir.path, 'acme.js'), pluginSource);
    const catalog = await loadCatalog('.', dir.path);
    const acme = catalog.get('acme')!;
    const { body } = acme.sample({});
    const headers = new Headers(acme.sign(body, { secret: 's3cret' }));
    expect(acme.verify({ body, headers }, { secret: 's3cret' }, new Date())).toEqual({ ok: true });
    expect(acme.verify({ body, headers }, { secret: 'other' }, new Date())).toEqual({ ok: false, reason: 'bad acme signature' });
    expect(acme.parse({ body, headers }, acme.describe({ body, headers })).branch).toBe('main');
  });

  test('a plugin id that clashes with a built-in one is refused', async () => {
    const clash = tempDir();
    writeFileSync(join(clash.path, 'github.js'), pluginSource.replace("id: 'acme'", "id: 'github'"));
    await expect(loadCatalog(clash.path, '/')).rejects.toThrow('plugin id "github" is already taken');
    clash.remove();
  });

  test('a missing pluginsDir is a clear error', async () => {
    await expect(loadCatalog('no-such-dir', dir.path)).rejects.toThrow(/pluginsDir .*no-such-dir: ENOENT/);
  });
});
