/** Starts a real fluxgate server on loopback from a YAML config written to a temp dir. */
import { builtinProviders } from '../../plugins/index.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, type Gateway } from '../../src/app/gateway.ts';
import { memoryLogger } from './memory-logger.ts';
import type { Clock } from '../../src/core/clock.ts';
import { tempDir } from './temp-dir.ts';

export interface TestGateway extends Gateway {
  dir: string;
  /** The config file it serves. */
  configPath: string;
  log: ReturnType<typeof memoryLogger>;
  hook(provider: string): string;
  stop(): Promise<void>;
}

export async function startTestGateway(options: {
  config: string;
  env?: Record<string, string>;
  clock?: Clock;
  /** Files to write next to the config (name → content). */
  files?: Record<string, string>;
  /** Reload on file changes (default true). */
  watchConfig?: boolean;
}): Promise<TestGateway> {
  const dir = tempDir();
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir.path, name), content);
  const configPath = join(dir.path, 'fluxgate.yaml');
  writeFileSync(configPath, options.config);
  const log = memoryLogger();
  const gateway = await startGateway({
    builtins: builtinProviders,
    configPath,
    version: 'test',
    env: { HOME: dir.path, ...options.env },
    log,
    clock: options.clock,
    random: () => 0.5,
    address: '127.0.0.1:0',
    adminAddress: '127.0.0.1:0',
    watchConfig: options.watchConfig,
  });
  return {
    ...gateway,
    dir: dir.path,
    configPath,
    log,
    hook: (provider) => `${gateway.url}/hook/${provider}`,
    async stop() {
      await gateway.shutdown();
      dir.remove();
    },
  };
}
