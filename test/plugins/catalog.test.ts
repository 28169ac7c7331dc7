import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { loadCatalog } from '../../src/provider-kit/catalog.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());

// A runtime provider as a user writes it: no imports at all, everything through the kit.
const pluginSource = `
const SIGNATURE = { header: 'X-Acme-Signature', algorithms: ['sha256'], prefixed: false };
export default (kit) => ({
  id: 'acme',
  defaultEvents: ['push'],
  secretFields: ['secret'],
  describe: (headers) => ({ event: 'push', deliveryId: headers.get('x-acme-id') ?? undefined }),
  verify: (request, { secret }) => kit.hmacHeader.verify(request, SIGNATURE, secret),
  parse(request, info) {
    const payload = kit.read(kit.json(request.body));
    return { events: [{ event: info.event, repositories: [payload.string('repo')], ...kit.ref(payload.string('ref')) }] };
  },
  sign: (body, { secret }) => ({ [SIGNATURE.header]: kit.hmacHeader.sign(SIGNATURE, secret, body) }),
});
`;

describe('provider catalog', () => {
  test('holds the built-in providers it is handed', async () => {
    const catalog = await loadCatalog(builtinProviders, providerKit, undefined, dir.path);
    expect([...catalog.keys()].sort()).toEqual(builtinProviders.map((builtin) => builtin.default(providerKit).id).sort());
  });

  test('loads a provider from pluginsDir, relative to the config directory, with the same kit, and it works', async () => {
    writeFileSync(join(dir.path, 'acme.js'), pluginSource);
    const catalog = await loadCatalog(builtinProviders, providerKit, '.', dir.path);
    const acme = catalog.get('acme')!;
    const body = new TextEncoder().encode('{"repo":"acme/app","ref":"refs/heads/main"}');
    const headers = new Headers(acme.sign(body, { secret: 's3cret' }, { now: new Date(), deliveryId: 'd', options: undefined }));
    expect(acme.verify({ body, headers }, { secret: 's3cret' }, new Date())).toEqual({ ok: true });
    expect(acme.verify({ body, headers }, { secret: 'other' }, new Date())).toEqual({ ok: false, reason: 'signature does not match' });
    expect(acme.parse({ body, headers }, acme.describe(headers), {})).toEqual({ events: [{ event: 'push', repositories: ['acme/app'], ref: 'refs/heads/main', branch: 'main' }] });
  });

  test('a provider type that clashes with a built-in one is refused', async () => {
    const clash = tempDir();
    writeFileSync(join(clash.path, 'github.js'), pluginSource.replace("id: 'acme'", "id: 'github'"));
    await expect(loadCatalog(builtinProviders, providerKit, clash.path, '/')).rejects.toThrow('provider type "github" is already taken');
    clash.remove();
  });

  test('a file that is not a provider is named', async () => {
    const wrong = tempDir();
    writeFileSync(join(wrong.path, 'half.js'), 'export default () => ({ id: "half", verify() {} });');
    await expect(loadCatalog(builtinProviders, providerKit, wrong.path, '/')).rejects.toThrow(/half\.js: the default export must be \(kit\) => ProviderCodec/);
    wrong.remove();
  });

  test('a missing pluginsDir is a clear error', async () => {
    await expect(loadCatalog(builtinProviders, providerKit, 'no-such-dir', dir.path)).rejects.toThrow(/pluginsDir .*no-such-dir: no such file/);
  });
});
