/**
 * Where the published deliveries are: each provider type's in `test/plugins/<type>/fixtures/` (its `SOURCE.md` says
 * where each came from; `test/plugins/README.md` how they were taken). A fixture is addressed `<type>/<path>`:
 * `github/push-new-branch.json`, or `gitea/forgejo/push.json` for another sender of the type's wire format, kept in
 * a folder of its own under the type's fixtures.
 */
import { join } from 'node:path';

const PLUGIN_TESTS = join(import.meta.dir, '..', 'plugins');

/**
 * @example
 * fixturePath('github/ping.json'); // <checkout>/test/plugins/github/fixtures/ping.json
 * fixturePath('gitea/forgejo');    // <checkout>/test/plugins/gitea/fixtures/forgejo
 */
export function fixturePath(address: string): string {
  const [type, ...rest] = address.split('/');
  return join(PLUGIN_TESTS, type!, 'fixtures', ...rest);
}
