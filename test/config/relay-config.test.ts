/**
 * `relay:` and `upstream:` as `fluxgate validate` reads them: the configs docs/private-clusters.md shows validate,
 * and mistakes get one clear line each (where, what, a suggestion), without the token in any of them.
 */
import { afterAll, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFluxgate } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir('fluxgate-relay-config-');
afterAll(() => dir.remove());

async function validate(name: string, text: string, fileOnly = true) {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return { path, ...(await runFluxgate(['validate', ...(fileOnly ? ['--file-only'] : []), path])) };
}

const doc = readFileSync(join(import.meta.dir, '..', '..', 'docs', 'private-clusters.md'), 'utf8');
const configs = [...doc.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]!).filter((block) => /^server:/m.test(block));

test('the edge and agent configs of docs/private-clusters.md validate', async () => {
  expect(configs.map((text) => (/^relay:/m.test(text) ? 'edge' : /^upstream:/m.test(text) ? 'agent' : 'other'))).toEqual(['edge', 'agent']);
  for (const [index, text] of configs.entries()) {
    const result = await validate(`doc-${index}.yaml`, text);
    expect({ index, stderr: result.stderr, code: result.code }).toEqual({ index, stderr: '', code: 0 });
  }
});

test('mistakes in relay: and upstream: get one line each, with where and what', async () => {
  const result = await validate(
    'bad.yaml',
    `kubernetes: { mode: dry-run }
providers: [{ name: github, type: github, secret: { value: github-secret-5f0e2a } }]
relay:
  subscribers:
    - { name: a, token: { value: relay-token-a-77c1d0 }, providers: [githbu] }
    - { name: a, token: { value: relay-token-b-0d3e9c }, repositories: ["your-org/["] }
upstream: { url: "https://user:pw@hooks.example.com", token: { value: upstream-token-19ab2e }, name: github }
`,
  );
  expect(result.code).toBe(1);
  // Each problem: the file, its line and column, the path in the config, and what is wrong.
  const lines = result.stderr.trim().split('\n').map((line) => line.replace(`${result.path}:`, '').replace(/^(\d+):\d+ /, 'line $1: '));
  expect(lines).toContain('line 5: relay.subscribers[0].providers[0]: no provider named "githbu" (did you mean "github"?)');
  expect(lines).toContain('line 6: relay.subscribers[1].name: subscriber "a" is defined twice');
  expect(lines.some((line) => line.startsWith('line 6: relay.subscribers[1].repositories[0]: '))).toBe(true);
  expect(lines).toContain('line 7: upstream.url: the edge\'s base URL takes no query, fragment or credentials (the token is upstream.token)');
  expect(lines).toContain('line 7: upstream.name: a provider is named "github" too: give the upstream another name (targets name it in providers)');
  for (const secret of ['relay-token-a-77c1d0', 'relay-token-b-0d3e9c', 'upstream-token-19ab2e', 'pw@']) expect(result.stderr).not.toContain(secret);
});

test('a subscriber token that cannot be read is a problem of the config, named by its path', async () => {
  const result = await validate('missing-token.yaml', `kubernetes: { mode: dry-run }\nproviders: [{ name: github, type: github, secret: { value: github-secret-5f0e2a } }]\nrelay:\n  subscribers:\n    - { name: a, token: { file: ${join(dir.path, 'absent-token')} } }\n`, false);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('relay.subscribers[0].token');
});
