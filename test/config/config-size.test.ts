/** The config file's size is checked before it is parsed; a large but realistic config still loads. */
import { builtinProviders } from '../../plugins/index.ts';
import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/app/load-config.ts';
import { MAX_CONFIG_BYTES } from '../../src/config/limits.ts';
import { ConfigError } from '../../src/config/validate.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());

const HEADER = `kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }
`;
const env = { GITHUB_WEBHOOK_SECRET: '7f3a9c0e5b1d' };

/** A target as people write them: a repository, a branch, a path filter, a source and a labelled Kustomization. */
function target(index: number): string {
  return `  - name: app-${index}
    providers: [github]
    match: { repository: your-org/app-${index}, branches: [main], paths: ["apps/app-${index}/**"] }
    resources:
      - { kind: GitRepository, name: app-${index}, namespace: flux-system }
      - { kind: Kustomization, namespace: team-${index % 40}, matchLabels: { app: app-${index} } }
`;
}

describe('config size', () => {
  test('10,000 targets load', async () => {
    const text = `${HEADER}targets:\n${Array.from({ length: 10_000 }, (_, index) => target(index)).join('')}`;
    expect(text.length).toBeGreaterThan(2_400_000);
    expect(text.length).toBeLessThan(MAX_CONFIG_BYTES);
    const path = join(dir.path, 'ten-thousand.yaml');
    writeFileSync(path, text);
    const loaded = await loadConfigFile({ path, builtins: builtinProviders, env });
    expect(loaded.config.targets).toHaveLength(10_000);
  }, 60_000);

  test('a larger file is refused before it is parsed', async () => {
    // Not YAML at all: parsing it would report a syntax error, so the size message proves nothing was parsed.
    const path = join(dir.path, 'huge.yaml');
    writeFileSync(path, `${'['.repeat(MAX_CONFIG_BYTES)}]`);
    const error = await loadConfigFile({ path, builtins: builtinProviders, env }).catch((caught) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${path}: the config is larger than 4 MiB, the most fluxgate reads (10,000 targets are about 2.4 MB); split what generates it, or use fewer, broader targets (matchLabels, globs)`);
  });

  test('a file of exactly the limit is read', async () => {
    const path = join(dir.path, 'at-limit.yaml');
    const text = `${HEADER}targets: []\n`;
    writeFileSync(path, `${text}${'#'.repeat(MAX_CONFIG_BYTES - text.length - 1)}\n`);
    expect((await loadConfigFile({ path, builtins: builtinProviders, env })).config.targets).toEqual([]);
  });

  test('validate reads a config from a pipe (`validate <(kustomize build …)`), whose size is unknown until it ends, whole or refused past the limit', async () => {
    const read = async (text: string) => {
      const path = join(dir.path, `pipe-${text.length}`);
      expect(Bun.spawnSync(['mkfifo', path]).exitCode).toBe(0);
      const writer = Bun.spawn(['sh', '-c', 'cat > "$0"', path], { stdin: new Blob([text]), stderr: 'ignore' });
      try {
        return await loadConfigFile({ path, builtins: builtinProviders, env, configFromPipe: true });
      } finally {
        writer.kill();
        await writer.exited;
      }
    };
    const text = `${HEADER}targets:\n${Array.from({ length: 300 }, (_, index) => target(index)).join('')}`;
    expect((await read(text)).config.targets).toHaveLength(300);
    const error = await read(`${HEADER}${'#'.repeat(MAX_CONFIG_BYTES)}\n`).catch((caught) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('the config is larger than 4 MiB');
  }, 60_000);
});

