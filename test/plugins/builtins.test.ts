/**
 * A built-in provider is one folder, and the list of them is derived from the folders: every folder under plugins/
 * is listed once in plugins/index.ts, under its codec's id, and every listed type has its folder with its doc page
 * (linked from docs/providers.md), its sample for `fluxgate send`, and its tests in test/plugins/<type>/. A folder
 * reaches only the provider kit's face and its own files, and its codec imports only types, as a runtime plugin.
 */
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { importsOf } from '../support/module-imports.ts';

const root = join(import.meta.dir, '..', '..');
const plugins = join(root, 'plugins');
const folders = readdirSync(plugins).filter((name) => statSync(join(plugins, name)).isDirectory());
const listed = builtinProviders.map((builtin) => ({ id: builtin.default(providerKit).id, builtin }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
}

describe('the built-in providers are the folders of plugins/', () => {
  test('every folder is listed once, and every listed type is a folder of its name', () => {
    const ids = listed.map(({ id }) => id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...folders].sort());
    expect(readdirSync(plugins).filter((name) => !folders.includes(name))).toEqual(['index.ts']);
  });

  for (const { id, builtin } of listed) {
    test(`${id}: its folder has the codec, the face, the doc page, the sample and a test folder`, () => {
      expect(['codec.ts', 'index.ts', 'README.md'].filter((name) => !existsSync(join(plugins, id, name)))).toEqual([]);
      expect(typeof builtin.sample.body).toBe('function');
      expect(typeof builtin.sample.headers).toBe('function');
      const tests = join(root, 'test', 'plugins', id);
      expect(existsSync(tests) ? readdirSync(tests).filter((name) => name.endsWith('.test.ts')) : []).not.toEqual([]);
    });
  }

  test('docs/providers.md links to the page of every type', () => {
    const index = readFileSync(join(root, 'docs', 'providers.md'), 'utf8');
    expect(listed.map(({ id }) => id).filter((id) => !index.includes(`(../plugins/${id}/README.md)`))).toEqual([]);
  });

  test('loading the built-ins loads no registration client: serving without registering never loads one (nor gitbeaker)', () => {
    const loaded = (script: string) => {
      const run = Bun.spawnSync([process.execPath, '-e', `${script}; console.log(JSON.stringify(Object.keys(require.cache).filter((path) => /hook-client|gitbeaker/.test(path)).length))`], { cwd: root });
      if (run.exitCode !== 0) throw new Error(run.stderr.toString());
      return Number(run.stdout.toString().trim());
    };
    const builtins = "const { builtinProviders } = await import('./plugins/index.ts')";
    expect(loaded(builtins)).toBe(0);
    // The same probe sees a client once one is asked for.
    expect(loaded(`${builtins}; await builtinProviders.find((builtin) => builtin.registration).registration.client({ apiUrl: 'https://git.example.com', token: 't', send: fetch })`)).toBeGreaterThan(0);
  });

  test('a registration has a spec fluxgate register can use and a client', () => {
    const registrations = listed.filter(({ builtin }) => builtin.registration);
    expect(registrations.length).toBeGreaterThan(0);
    for (const { id, builtin } of registrations) {
      const { spec, client } = builtin.registration!;
      expect({ id, title: typeof spec.title, scopes: spec.scopeKeys.length > 0, client: typeof client }).toEqual({ id, title: 'string', scopes: true, client: 'function' });
    }
  });
});

describe('a provider folder stands alone', () => {
  test('its files import only their own folder and the provider kit’s face', () => {
    const kit = join(root, 'src', 'provider-kit', 'index.ts');
    const wrong = folders.flatMap((folder) =>
      files(join(plugins, folder))
        .filter((file) => file.endsWith('.ts'))
        .flatMap((file) =>
          importsOf(readFileSync(file, 'utf8'))
            .map((specifier) => normalize(join(dirname(file), specifier)))
            .filter((target) => target !== kit && !target.startsWith(join(plugins, folder) + '/'))
            .map((target) => `${relative(root, file)} → ${relative(root, target)}`),
        ),
    );
    expect(wrong).toEqual([]);
  });

  test('its codec imports only types, as a runtime plugin must (a compiled binary cannot resolve its imports)', () => {
    for (const folder of folders) {
      const source = readFileSync(join(plugins, folder, 'codec.ts'), 'utf8');
      for (const line of source.split('\n').filter((text) => /^\s*import\s/.test(text))) {
        expect(`${folder}: ${line}`).toMatch(/^[a-z-]+: import type .* from '\.\.\/\.\.\/src\/provider-kit\/index\.ts';$/);
      }
      expect(source).not.toMatch(/\brequire\(|\bimport\(/);
    }
  });
});
