/** The `server:` keys that bound the HTTP surface, as the config file spells them. */
import { expect, test } from 'bun:test';
import { ConfigError, parseConfig } from '../../src/config/validate.ts';

const base = (server: string) => `server:
${server}
providers:
  - { name: github, type: github, secret: { env: S } }
`;

function problems(server: string): string[] {
  try {
    parseConfig(base(server), 'fluxgate.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
}

test('sizes and durations are decoded to bytes and milliseconds', () => {
  const { config } = parseConfig(base('  maxBodyBytesInFlight: 64MiB\n  bodyTimeout: 2500ms\n  maxConcurrentRequests: 64\n  idleTimeout: 75s'), 'fluxgate.yaml');
  expect(config.server).toMatchObject({ maxBodyBytesInFlight: 64 * 1024 * 1024, bodyTimeout: 2500, maxConcurrentRequests: 64, idleTimeout: 75_000 });
});

test('idleTimeout takes whole seconds within Bun\'s range, 1s to 255s', () => {
  expect(problems('  idleTimeout: 255s')).toEqual([]);
  for (const value of ['0s', '256s', '500ms', '5m']) {
    expect(problems(`  idleTimeout: ${value}`)).toEqual([`fluxgate.yaml:2:16 server.idleTimeout: expected whole seconds from 1s to 255s`]);
  }
});

test('maxConcurrentRequests is at least 1', () => {
  expect(problems('  maxConcurrentRequests: 0')).toHaveLength(1);
});
