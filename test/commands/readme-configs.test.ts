/**
 * Every full config shown in README.md (a ```yaml block with `providers:`) loads with the real loader, given the
 * environment variables it names, so the documentation cannot drift from what fluxgate accepts.
 */
import { builtinProviders } from '../../plugins/index.ts';
import { afterAll, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/app/load-config.ts';
import { tempDir } from '../support/temp-dir.ts';

const readme = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
const configs = blocks.filter((block) => /^providers:/m.test(block));
const dir = tempDir();
afterAll(() => dir.remove());

/** A well-formed value for every `{ env: NAME }` a config names (a signing token where the field needs one). */
function environmentFor(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const provider of (parse(text) as { providers: Record<string, { env?: string } | undefined>[] }).providers) {
    for (const field of ['secret', 'signingSecret']) {
      const name = provider[field]?.env;
      if (name) env[name] = field === 'signingSecret' ? `whsec_${Buffer.alloc(32, 1).toString('base64')}` : `readme-${name.toLowerCase()}-4c1f`;
    }
  }
  return env;
}

test('README.md shows at least one full config', () => {
  expect(configs.length).toBeGreaterThan(0);
});

test.each(configs.map((text, index) => [index + 1, text]))('README config %i loads', async (index, text) => {
  const path = join(dir.path, `readme-${index}.yaml`);
  writeFileSync(path, text as string);
  // HOME without a kubeconfig: `kubernetes.mode: auto` resolves to dry-run, as on a machine with no cluster.
  const loaded = await loadConfigFile({ path, builtins: builtinProviders, env: { HOME: dir.path, ...environmentFor(text as string) } });
  expect(loaded.config.providers.length).toBeGreaterThan(0);
});
