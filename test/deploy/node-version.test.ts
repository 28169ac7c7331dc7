/**
 * The Node.js version the README names is one the locked dependencies accept, so `npm install` on it prints no
 * engine warning (undici 8, from @kubernetes/client-node, needs 22.19), and every dependency with an install
 * script is approved in `allowScripts` (npm 12 skips unapproved ones; bun's fetches the Bun binary).
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };

const root = join(import.meta.dir, '..', '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The lowest version a `>=X.Y` range allows, as X.Y.0. */
function minimum(range: string): string {
  const match = /^>=(\d+)\.(\d+)(?:\.(\d+))?$/.exec(range);
  if (!match) throw new Error(`engines.node ${JSON.stringify(range)} is not a plain >=X.Y range`);
  return `${match[1]}.${match[2]}.${match[3] ?? 0}`;
}

describe('the Node.js version', () => {
  const floor = minimum(packageJson.engines.node);

  test('package.json, its lockfile and the README name the same one', () => {
    expect(lock.packages[''].engines.node).toBe(packageJson.engines.node);
    const [major, minor] = floor.split('.');
    expect(readme).toContain(`Node.js (${major}.${minor}+)`);
  });

  test('every locked dependency accepts it, so installing on it warns about no engine', () => {
    const refusing = Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
      .filter(([path, entry]) => path !== '' && entry.engines?.node && !Bun.semver.satisfies(floor, entry.engines.node))
      .map(([path, entry]) => `${path} needs node ${entry.engines!.node}`);
    expect(refusing).toEqual([]);
  });

  test('every dependency with an install script is approved in allowScripts', () => {
    const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect((packageJson as { allowScripts?: Record<string, boolean> }).allowScripts?.[name]).toBe(true);
  });
});
