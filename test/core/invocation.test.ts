/** Messages name a command the user can run from where they are: npm start, a checkout, a linked or built binary. */
import { describe, expect, test } from 'bun:test';
import { invocationOf } from '../../src/core/invocation.ts';

const checkout = '/home/dev/fluxgate';
const fromSource = (args: string[]) => ['/home/dev/fluxgate/node_modules/bun/bin/bun.exe', `${checkout}/src/main.ts`, ...args];

describe('the command a message names', () => {
  test('under npm start: npm start -- with the flag, never a fluxgate that is not installed', () => {
    const ran = invocationOf({ env: { npm_lifecycle_event: 'start', npm_package_name: 'fluxgate' }, argv: fromSource(['serve', '--config', 'config.example.yaml']), execPath: '/usr/bin/bun', cwd: checkout });
    expect(ran.serve('config.example.yaml', '--dry-run')).toBe('npm start -- --dry-run');
    expect(ran.command('validate config.example.yaml')).toBe('npx bun src/main.ts validate config.example.yaml');
  });

  test('from a checkout: npx bun and the script, with what the user typed', () => {
    const ran = invocationOf({ env: {}, argv: fromSource(['validate', 'my config.yaml']), execPath: '/usr/bin/bun', cwd: checkout });
    expect(ran.again('--dry-run')).toBe("npx bun src/main.ts validate 'my config.yaml' --dry-run");
    expect(ran.serve('my config.yaml', '--dry-run')).toBe("npx bun src/main.ts serve --config 'my config.yaml' --dry-run");
    const elsewhere = invocationOf({ env: {}, argv: fromSource(['serve']), execPath: '/usr/bin/bun', cwd: '/etc/fluxgate' });
    expect(elsewhere.command('retry')).toBe(`${checkout}/node_modules/.bin/bun ${checkout}/src/main.ts retry`);
  });

  test('linked (npm link): fluxgate, when the fluxgate on PATH leads into this checkout', () => {
    const linked = invocationOf({ env: {}, argv: fromSource(['serve']), execPath: '/usr/bin/bun', cwd: '/tmp', fluxgateOnPath: `${checkout}/src/main.ts` });
    expect(linked.again('--dry-run')).toBe('fluxgate serve --dry-run');
    const other = invocationOf({ env: {}, argv: fromSource(['serve']), execPath: '/usr/bin/bun', cwd: checkout, fluxgateOnPath: '/usr/lib/node_modules/fluxgate/cli.js' });
    expect(other.command('validate')).toBe('npx bun src/main.ts validate');
  });

  test('a compiled binary: fluxgate when PATH finds it, else its path', () => {
    const argv = ['bun', '/$bunfs/root/fluxgate', 'serve'];
    expect(invocationOf({ env: {}, argv, execPath: '/usr/local/bin/fluxgate', cwd: '/', fluxgateOnPath: '/usr/local/bin/fluxgate' }).again('--dry-run')).toBe('fluxgate serve --dry-run');
    expect(invocationOf({ env: {}, argv, execPath: `${checkout}/dist/fluxgate`, cwd: checkout }).command('version')).toBe('dist/fluxgate version');
    expect(invocationOf({ env: {}, argv, execPath: '/opt/fluxgate', cwd: '/opt' }).command('version')).toBe('./fluxgate version');
  });
});
