/**
 * Every full config shown in README.md (a ```yaml block with `providers:`) loads with the real loader as a reader
 * copies it: given only the webhook secrets its providers' `secret:` names (what the Quick start sets), so an
 * optional setting shown active (a GitLab `signingSecret` whose variable nobody set) fails here, not for the reader.
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

/** A value for each provider's `secret: { env: NAME }`, and nothing else: optional secrets stay unset, as for a reader. */
function environmentFor(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const provider of (parse(text) as { providers: Record<string, { env?: string } | undefined>[] }).providers) {
    const name = provider.secret?.env;
    if (name) env[name] = `readme-${name.toLowerCase()}-4c1f`;
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
