import { describe, expect, test } from 'bun:test';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { isTerminal } from '../../src/core/terminal.ts';

const module = join(import.meta.dir, '..', '..', 'src', 'core', 'terminal.ts');
/** Prints whether the child's stderr is a terminal, as fluxgate decides it at start-up. */
const probe = ['-e', `import { isTerminal } from ${JSON.stringify(module)}; require('node:fs').writeSync(1, String(isTerminal(2)));`];

describe('isTerminal: text logs only at a terminal', () => {
  test('a pipe (a container runtime, systemd) is not a terminal', async () => {
    const child = Bun.spawn([process.execPath, ...probe], { stdout: 'pipe', stderr: 'pipe' });
    expect(await new Response(child.stdout).text()).toBe('false');
    expect(await child.exited).toBe(0);
  });

  test('/dev/null is a character device but not a terminal', async () => {
    const child = Bun.spawn([process.execPath, ...probe], { stdout: 'pipe', stderr: 'ignore' });
    expect(await new Response(child.stdout).text()).toBe('false');
    const fd = openSync('/dev/null', 'w');
    try {
      expect(isTerminal(fd)).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  test('a pseudo-terminal is one', async () => {
    // script(1) runs the probe with a pty as its stdin, stdout and stderr and copies what it prints.
    const command = [process.execPath, ...probe].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
    const child = Bun.spawn(['script', '-qec', command, '/dev/null'], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    expect((await new Response(child.stdout).text()).trim()).toBe('true');
    expect(await child.exited).toBe(0);
  });

  test('a closed descriptor is not one', () => {
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    expect(isTerminal(fd)).toBe(false);
  });
});
