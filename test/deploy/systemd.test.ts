/**
 * deploy/systemd: the unit's sandbox as `systemd-analyze security` rates it (offline, from the file), and
 * install.sh run into a scratch root (--root): the system account, the files with their owners and modes, the
 * unit where systemd looks, and the installed config validated by the installed binary with the installed
 * secrets — the paths the unit names.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mainScript } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

setDefaultTimeout(60_000);

const systemd = join(import.meta.dir, '..', '..', 'deploy', 'systemd');
const unitPath = join(systemd, 'fluxgate.service');
const unit = readFileSync(unitPath, 'utf8');
const scratch = tempDir('fluxgate-install-');
const root = join(scratch.path, 'root');
const SECRET = '5f0c8e1d2b3a49687f6e5d4c3b2a1908';

/** Values of a [Service] key, in order. */
const directive = (key: string) => unit.split('\n').filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));

function install(...args: string[]) {
  return spawnSync('bash', [join(systemd, 'install.sh'), '--root', root, ...args], { encoding: 'utf8' });
}

beforeAll(() => {
  // A stand-in root: empty account databases for useradd --prefix, and fluxgate from source as the binary.
  for (const file of ['passwd', 'group', 'shadow', 'gshadow']) {
    spawnSync('mkdir', ['-p', join(root, 'etc')]);
    writeFileSync(join(root, 'etc', file), '');
  }
  writeFileSync(join(scratch.path, 'fluxgate'), `#!/bin/sh\nexec "${process.execPath}" "${mainScript}" "$@"\n`, { mode: 0o755 });
  writeFileSync(
    join(scratch.path, 'fluxgate.yaml'),
    `server: { address: 127.0.0.1:9292 }
kubernetes: { mode: kubeconfig }
providers:
  - { name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }
targets:
  - name: fleet
    providers: [github]
    resources: [{ kind: GitRepository, name: flux-system, namespace: flux-system }]
`,
  );
  writeFileSync(join(scratch.path, 'fluxgate.env'), `GITHUB_WEBHOOK_SECRET=${SECRET}\n`);
  writeFileSync(
    join(scratch.path, 'kubeconfig'),
    `apiVersion: v1
kind: Config
current-context: vm
clusters: [{ name: vm, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: fluxgate, user: { token: not-a-real-token } }]
contexts: [{ name: vm, context: { cluster: vm, user: fluxgate } }]
`,
  );
});
afterAll(() => scratch.remove());

describe('deploy/systemd/fluxgate.service', () => {
  test('systemd-analyze security rates it 2.5 or better ("OK")', () => {
    const run = spawnSync('systemd-analyze', ['security', '--offline=true', unitPath], { encoding: 'utf8' });
    if (run.error) throw new Error(`systemd-analyze is needed (apt-get install systemd): ${run.error.message}`);
    const overall = /Overall exposure level for fluxgate\.service: (\d+\.\d+) (\w+)/.exec(run.stdout);
    expect(overall).not.toBeNull();
    expect(Number(overall![1])).toBeLessThanOrEqual(2.5);
    expect(overall![2]).toBe('OK');
  });

  test('runs as its own system user, validates before it serves, and never as root', () => {
    expect(directive('User')).toEqual(['fluxgate']);
    expect(directive('ExecStartPre')).toEqual(['/usr/local/bin/fluxgate validate /etc/fluxgate/fluxgate.yaml']);
    expect(directive('ExecStart')).toEqual(['/usr/local/bin/fluxgate serve --config /etc/fluxgate/fluxgate.yaml']);
    expect(directive('EnvironmentFile')).toEqual(['-/etc/fluxgate/env']);
    expect(directive('Environment')).toEqual(['KUBECONFIG=/etc/fluxgate/kubeconfig']);
    expect(directive('CapabilityBoundingSet')).toEqual(['']);
    expect(directive('KillSignal')).toEqual(['SIGTERM']);
  });
});

describe('deploy/systemd/install.sh', () => {
  test('installs the binary, config, secrets, kubeconfig and unit where the unit expects them', () => {
    const run = install('--binary', join(scratch.path, 'fluxgate'), '--config', join(scratch.path, 'fluxgate.yaml'), '--env', join(scratch.path, 'fluxgate.env'), '--kubeconfig', join(scratch.path, 'kubeconfig'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // The installed binary validated the installed config, reading the secret from the installed env file.
    expect(run.stdout).toContain(`${root}/etc/fluxgate/fluxgate.yaml: ok`);
    expect(run.stdout).not.toContain(SECRET);

    const account = readFileSync(join(root, 'etc', 'passwd'), 'utf8').split('\n').find((line) => line.startsWith('fluxgate:'))!.split(':');
    expect(account[5]).toBe('/nonexistent');
    expect(account[6]).toBe('/usr/sbin/nologin');
    const gid = Number(account[3]);
    expect(Number(account[2])).toBeLessThan(1000); // a system account

    const mode = (path: string) => {
      const stat = statSync(join(root, path));
      return { mode: (stat.mode & 0o7777).toString(8), uid: stat.uid, gid: stat.gid };
    };
    expect(mode('usr/local/bin/fluxgate')).toEqual({ mode: '755', uid: 0, gid: 0 });
    expect(mode('etc/fluxgate')).toEqual({ mode: '750', uid: 0, gid });
    expect(mode('etc/fluxgate/fluxgate.yaml')).toEqual({ mode: '640', uid: 0, gid });
    expect(mode('etc/fluxgate/kubeconfig')).toEqual({ mode: '640', uid: 0, gid });
    expect(mode('etc/fluxgate/env')).toEqual({ mode: '600', uid: 0, gid: 0 });
    expect(readFileSync(join(root, 'etc', 'systemd', 'system', 'fluxgate.service'), 'utf8')).toBe(unit);
  });

  test('running it again changes nothing but the files given, and a bad config stops it', () => {
    const again = install('--binary', join(scratch.path, 'fluxgate'));
    expect(again.status).toBe(0);
    expect(readFileSync(join(root, 'etc', 'passwd'), 'utf8').match(/^fluxgate:/gm)).toHaveLength(1);

    writeFileSync(join(scratch.path, 'typo.yaml'), readFileSync(join(scratch.path, 'fluxgate.yaml'), 'utf8').replace('secret:', 'secert:'));
    const bad = install('--binary', join(scratch.path, 'fluxgate'), '--config', join(scratch.path, 'typo.yaml'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('did you mean "secret"');
    expect(bad.stderr).toContain('does not validate');
  });
});
