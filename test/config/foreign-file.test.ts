/**
 * A config path pointed at a file that is no config (a password file, a key, a directive-laden text) is refused
 * at a position, quoting none of its lines: its content must not reach the log or the status page. YAML mistakes
 * in a real config keep their messages.
 */
import { describe, expect, test } from 'bun:test';
import { configProblems as problems } from '../support/config-check.ts';

/** Lines of /etc/shadow's form: user, password hash, the password's ageing fields. */
const shadow = ['root:$6$9QMCxTfA$Nd0kKtcnw8pEpU1lG6cV0pEJrx9xRq1Hn3Y0bJ0x7U5uS1mQvBq2e4/:19000:0:99999:7:::', 'svc-deploy:$y$j9T$Xk2wq0r7$Yb3kLq8uZ0N1m2V3c4X5z6A7s8D9f0G1h2J3k4L5:19350:0:99999:7:::'];
const secrets = ['9QMCxTfA', 'Nd0kKtcnw8pEpU1lG6cV0pEJrx9xRq1Hn3Y0bJ0x7U5uS1mQvBq2e4', 'Yb3kLq8uZ0N1m2V3c4X5z6A7s8D9f0G1h2J3k4L5', 'svc-deploy'];

function expectNoContent(lines: string[]): void {
  for (const secret of secrets) expect(lines.join('\n')).not.toContain(secret);
}

describe('a file that is no config', () => {
  test('a shadow-like file (each line a YAML key) is one problem at 1:1, quoting nothing', () => {
    const lines = problems(`${shadow.join('\n')}\n`);
    expect(lines).toEqual([expect.stringMatching(/^fluxgate\.yaml:1:1 the file is not a fluxgate config: none of its top-level keys is a section \(server, kubernetes, providers, targets, …\); its content is not shown$/)]);
    expectNoContent(lines);
  });

  test('a file YAML cannot read, with no line starting a section, is one problem at the first error, quoting nothing', () => {
    for (const text of [`%9QMCxTfA directive\n${shadow[0]}\n`, `${shadow[0]}\n  nested: !Nd0kKtcnw8pEpU1lG6cV0pEJrx9xRq1Hn3Y0bJ0x7U5uS1mQvBq2e4 x\n- svc-deploy\n`]) {
      const lines = problems(text);
      expect(lines).toEqual([expect.stringMatching(/^fluxgate\.yaml:\d+:\d+ the file is not a fluxgate config: it cannot be read as YAML here, and no line starts a section/)]);
      expectNoContent(lines);
    }
  });

  test('a line of such a file inside a config is placed, not quoted: key, path and duplicate alike', () => {
    const config = `server: { address: 127.0.0.1:9292 }\n${shadow[1]}\n${shadow[1]}\nproviders: []\n`;
    const lines = problems(config);
    expect(lines).toEqual(['fluxgate.yaml:3:1 duplicate key (not quoted: not a key name)']);
    expectNoContent(lines);
    const once = problems(config.replace(`${shadow[1]}\n`, ''));
    expect(once).toEqual(['fluxgate.yaml:2:1 …: unknown key (not quoted: not a key name)']);
    expectNoContent(once);
  });
});

describe('a config with YAML mistakes keeps its messages', () => {
  test.each([
    ['a misspelt key', 'server:\n  adress: 127.0.0.1:9292\nproviders: []\n', 'fluxgate.yaml:2:3 server.adress: unknown key "adress" (did you mean "address"?)'],
    ['a duplicate key', 'server: {}\nserver: {}\nproviders: []\n', 'fluxgate.yaml:2:1 duplicate key "server"'],
    ['a bad escape', 'server: { address: "a \\q" }\n', 'fluxgate.yaml:1:23 Invalid escape sequence \\q'],
    ['tabs', 'server:\n\taddress: x\n', 'fluxgate.yaml:2:1 Tabs are not allowed as indentation'],
    ['a missing anchor', 'server: *defaults\nproviders: []\n', 'fluxgate.yaml:1:9 alias *defaults has no anchor &defaults before it'],
  ])('%s', (_name, text, expected) => {
    expect(problems(text)).toEqual([expected]);
  });
});
