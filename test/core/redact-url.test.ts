/** URLs as fluxgate records, logs, shows and sends them: never with a password or a token in them. */
import { describe, expect, test } from 'bun:test';
import { redactUrl } from '../../src/core/redact-url.ts';

describe('redactUrl', () => {
  test('https and other schemes lose all userinfo: a user name alone may be the token', () => {
    expect(redactUrl('https://user:SuperSecretPass123@github.com/org/repo')).toBe('https://github.com/org/repo');
    expect(redactUrl('https://x-access-token:ghp_0123456789abcdefABCDEF0123456789abcd@github.com/org/repo.git')).toBe('https://github.com/org/repo.git');
    expect(redactUrl('https://ghp_0123456789abcdefABCDEF0123456789abcd@github.com/org/repo')).toBe('https://github.com/org/repo');
    expect(redactUrl('HTTP://gitlab-ci-token:glcbt-64_abc@gitlab.example.com:8443/group/sub/project.git')).toBe('HTTP://gitlab.example.com:8443/group/sub/project.git');
    expect(redactUrl('oci://robot:harbor-secret@registry.example.com/team/app')).toBe('oci://registry.example.com/team/app');
    expect(redactUrl('git://anon:pass@example.com/repo.git')).toBe('git://example.com/repo.git');
  });

  test('an @ in the password does not end the userinfo early', () => {
    expect(redactUrl('https://user:p@ss@w0rd@github.com/org/repo')).toBe('https://github.com/org/repo');
    expect(redactUrl('deploy:p@ss:w0rd@example.com:org/repo.git')).toBe('deploy@example.com:org/repo.git');
  });

  test('over SSH the user name stays and only the password goes', () => {
    expect(redactUrl('ssh://git:pass@example.com/org/repo.git')).toBe('ssh://git@example.com/org/repo.git');
    expect(redactUrl('ssh://git@ssh.github.com:443/org/repo')).toBe('ssh://git@ssh.github.com:443/org/repo');
    expect(redactUrl('git+ssh://deploy:hunter2@example.com/org/repo')).toBe('git+ssh://deploy@example.com/org/repo');
    expect(redactUrl('ssh://:hunter2@example.com/org/repo')).toBe('ssh://example.com/org/repo');
  });

  test("git's scp-like form and a URL without a scheme keep the user name, not the password", () => {
    expect(redactUrl('user:pass@example.com:org/repo.git')).toBe('user@example.com:org/repo.git');
    expect(redactUrl('user:pass@github.com/org/repo')).toBe('user@github.com/org/repo');
    expect(redactUrl('git@github.com:org/repo.git')).toBe('git@github.com:org/repo.git');
    expect(redactUrl('git@ssh.dev.azure.com:v3/org/project/repo')).toBe('git@ssh.dev.azure.com:v3/org/project/repo');
  });

  test('what holds no credentials is returned as it is', () => {
    for (const plain of ['https://github.com/org/repo', 'org/repo', 'github.com/org/repo', 'ghcr.io/org/app', 'example.com:3000/org/repo', 'https://example.com/org/repo@v1', 'git@github.com:org/repo@v1', '']) {
      expect(redactUrl(plain)).toBe(plain);
    }
  });

  test('a payload-sized value is redacted in linear time, without backtracking blow-up', () => {
    const huge = `https://${'a:'.repeat(500_000)}@github.com/org/repo`;
    expect(redactUrl(huge)).toBe('https://github.com/org/repo');
    const noAt = `https://${'a'.repeat(1_000_000)}`;
    expect(redactUrl(noAt)).toBe(noAt);
  });
});
