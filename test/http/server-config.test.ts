/** The `server:` keys that bound the HTTP surface, as the config file spells them. */
import { expect, test } from 'bun:test';
import { parseConfig } from '../../src/config/validate.ts';

const base = (server: string) => `server:
${server}
providers:
  - { name: github, type: github, secret: { env: S } }
`;

test('sizes and durations are decoded to bytes and milliseconds', () => {
  const { config } = parseConfig(base('  maxBodyBytesInFlight: 64MiB\n  bodyTimeout: 2500ms'), 'fluxgate.yaml');
  expect(config.server).toMatchObject({ maxBodyBytesInFlight: 64 * 1024 * 1024, bodyTimeout: 2500 });
});
