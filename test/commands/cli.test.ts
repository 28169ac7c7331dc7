import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFluxgate } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const dir = tempDir();
afterAll(() => dir.remove());

describe('fluxgate validate', () => {
  test('accepts config.example.yaml', async () => {
    const result = await runFluxgate(['validate', '--config', 'config.example.yaml'], { GITHUB_WEBHOOK_SECRET: 'b1f0c9d2e7a4', GITLAB_WEBHOOK_TOKEN: '5e8d2a7c1f93' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ok (2 providers, 1 target;');
  });

  test('a typo\'d key is reported with file, line and column, and exits 1', async () => {
    const path = join(dir.path, 'typo.yaml');
    writeFileSync(path, 'providers:\n  - name: github\n    type: github\n    secert: { env: X }\n');
    const result = await runFluxgate(['validate', '--config', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path}:4:5 providers[0].secert: unknown key "secert"`);
    expect(result.stderr).toContain('1 problem in');
  });

  test('FLUXGATE_CONFIG is the default path; a missing file is a clear error', async () => {
    const result = await runFluxgate(['validate'], { FLUXGATE_CONFIG: join(dir.path, 'absent.yaml') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('absent.yaml:1:1 cannot read config: ENOENT');
  });
});

describe('fluxgate serve', () => {
  test('refuses to start when a secret is missing, naming the variable', async () => {
    const result = await runFluxgate(['serve', '--config', 'config.example.yaml'], { GITHUB_WEBHOOK_SECRET: '', GITLAB_WEBHOOK_TOKEN: 'x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/config\.example\.yaml:\d+:\d+ providers\[0\]\.secret: environment variable GITHUB_WEBHOOK_SECRET is not set/);
  });
});

describe('fluxgate version', () => {
  test('prints the version', async () => {
    const result = await runFluxgate(['version']);
    expect(result.stdout).toMatch(/^fluxgate \d+\.\d+\.\d+\n$/);
  });
});
