import { describe, expect, test } from 'bun:test';
import type { ProviderRuntime } from '../../src/pipeline/compile.ts';
import { createRouteTable } from '../../src/pipeline/route-table.ts';

/** Only what the table reads: a name and a route. */
const provider = (name: string, route = `/hook/${name}`) => ({ name, route }) as ProviderRuntime;

describe('createRouteTable', () => {
  test('replacing a source swaps all of its routes, and leaves the other sources alone', () => {
    const routes = createRouteTable(['config', 'receivers']);
    routes.replace('config', [provider('github'), provider('gitlab')]);
    routes.replace('receivers', [provider('flux-system/app', '/hook/ab12')]);
    routes.replace('config', [provider('gitlab')]);
    expect(routes.get('/hook/github')).toBeUndefined();
    expect(routes.get('/hook/gitlab')?.name).toBe('gitlab');
    expect(routes.get('/hook/ab12')?.name).toBe('flux-system/app');
    expect(routes.all().map((runtime) => runtime.name)).toEqual(['gitlab', 'flux-system/app']);
  });

  test('a runtime looked up before a replacement is the one the caller keeps', () => {
    const routes = createRouteTable(['config']);
    const before = provider('github');
    routes.replace('config', [before]);
    const held = routes.get('/hook/github');
    routes.replace('config', [provider('github')]);
    expect(held).toBe(before);
    expect(routes.get('/hook/github')).not.toBe(before);
  });

  test('a route two sources want stays with the earlier source, and the conflict is reported until it is gone', () => {
    const routes = createRouteTable(['config', 'receivers']);
    routes.replace('receivers', [provider('flux-system/app', '/hook/github')]);
    expect(routes.get('/hook/github')?.name).toBe('flux-system/app');
    const conflicts = routes.replace('config', [provider('github')]);
    expect(conflicts).toEqual([{ route: '/hook/github', kept: { source: 'config', provider: 'github' }, refused: { source: 'receivers', provider: 'flux-system/app' } }]);
    expect(routes.get('/hook/github')?.name).toBe('github');
    expect(routes.replace('config', [])).toEqual([]);
    expect(routes.get('/hook/github')?.name).toBe('flux-system/app');
  });

  test('an unknown source is a programming error', () => {
    expect(() => createRouteTable(['config']).replace('other', [])).toThrow('unknown route source other');
  });
});
