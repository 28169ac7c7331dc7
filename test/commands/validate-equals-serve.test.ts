/**
 * `validate` checks everything `serve` checks that needs no network: each problem below is run through both
 * commands (separate processes, clean environment) and both must print the same `file:line:col path: message`
 * lines and exit 1 — serve without ever listening.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { mainScript } from '../support/cli.ts';
import { runIsolated, startIsolatedServe } from '../support/isolated-cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { withPkiDir } from '../support/test-pki.ts';

const root = join(import.meta.dir, '..', '..');

// Each test starts fluxgate processes; on a busy machine that takes longer than bun's default 5 s.
setDefaultTimeout(30_000);

const scratch = tempDir();
afterAll(() => scratch.remove());

let pki: { cert: string; key: string; otherKey: string };
beforeAll(async () => {
  pki = await withPkiDir(async (dir) => {
    await dir.makeCa('ca', 'fluxgate-test-ca');
    await dir.makeLeaf('server', 'ca', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await dir.makeLeaf('other', 'ca', '/CN=other', 'subjectAltName=DNS:other\n');
    return { cert: dir.read('server.crt'), key: dir.read('server.key'), otherKey: dir.read('other.key') };
  });
});

const BASE = `server:
  address: 127.0.0.1:0
  adminAddress: 127.0.0.1:0
kubernetes:
  mode: dry-run
providers:
  - name: github
    type: github
    secret: { env: GITHUB_WEBHOOK_SECRET }
targets:
  - name: app
    providers: [github]
    resources:
      - { kind: GitRepository, name: app, namespace: flux-system }
`;
const SECRET = { GITHUB_WEBHOOK_SECRET: 'e3b0c44298fc1c14' };

/** A kubeconfig for a cluster that is never contacted (everything here fails, or passes, before the network). */
function kubeconfig(extra: { cluster?: Record<string, unknown>; user?: Record<string, unknown> } = {}): string {
  return toYaml({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'test',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', ...extra.cluster } }],
    users: [{ name: 'u', user: extra.user ?? { token: 'kube-token-a1b2' } }],
    contexts: [{ name: 'test', context: { cluster: 'c', user: 'u' } }],
  });
}

/** `line:col` of the first occurrence of `needle` in `text` (1-based, as the messages give them). */
function at(text: string, needle: string): string {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`${needle} is not in the config`);
  const before = text.slice(0, index);
  return `${before.split('\n').length}:${index - before.lastIndexOf('\n')}`;
}

interface Case {
  config: string;
  /** Files next to the config; `$pki.*` values are replaced by the test PKI. */
  files?: Record<string, string | (() => string)>;
  env?: Record<string, string>;
  /** Expected problems, `line:col path: message`, in file order; `$dir` is the case's directory, `$serve` the serve command the user can run on it. */
  problems: (text: string) => string[];
  /** What the output must never contain (secret values). */
  never?: string[];
}

const cases: Record<string, Case> = {
  'an unset secret environment variable': {
    config: BASE,
    problems: (t) => [`${at(t, '{ env: GITHUB')} providers[0].secret: environment variable GITHUB_WEBHOOK_SECRET is not set`],
  },
  'a missing secret file': {
    config: BASE.replace('{ env: GITHUB_WEBHOOK_SECRET }', '{ file: github-secret }'),
    problems: (t) => [`${at(t, '{ file:')} providers[0].secret: cannot read secret file github-secret: no such file`],
  },
  'an empty secret file': {
    config: BASE.replace('{ env: GITHUB_WEBHOOK_SECRET }', '{ file: github-secret }'),
    files: { 'github-secret': '\n' },
    problems: (t) => [`${at(t, '{ file:')} providers[0].secret: secret file github-secret is empty`],
  },
  'missing TLS files': {
    config: BASE.replace('127.0.0.1:0\n', '127.0.0.1:0\n  tls: { certFile: tls.crt, keyFile: tls.key }\n'),
    env: SECRET,
    problems: (t) => [
      `${at(t, 'tls.crt')} server.tls.certFile: cannot read certificate file $dir/tls.crt: no such file`,
      `${at(t, 'tls.key')} server.tls.keyFile: cannot read key file $dir/tls.key: no such file`,
    ],
  },
  'TLS files that are not PEM': {
    config: BASE.replace('127.0.0.1:0\n', '127.0.0.1:0\n  tls: { certFile: tls.crt, keyFile: tls.key }\n'),
    files: { 'tls.crt': 'not a certificate\n', 'tls.key': () => pki.key.replaceAll('PRIVATE KEY', 'PRIVATE STUFF') },
    env: SECRET,
    problems: (t) => [
      `${at(t, 'tls.crt')} server.tls.certFile: $dir/tls.crt is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)`,
      `${at(t, 'tls.key')} server.tls.keyFile: $dir/tls.key is not a PEM private key (no -----BEGIN … PRIVATE KEY----- line)`,
    ],
  },
  'a TLS key that is not the certificate\'s': {
    config: BASE.replace('127.0.0.1:0\n', '127.0.0.1:0\n  tls: { certFile: tls.crt, keyFile: tls.key }\n'),
    files: { 'tls.crt': () => pki.cert, 'tls.key': () => pki.otherKey },
    env: SECRET,
    problems: (t) => [`${at(t, 'tls.key')} server.tls.keyFile: $dir/tls.key is not the private key of the certificate in $dir/tls.crt`],
  },
  'a kubeconfig path that does not exist': {
    config: BASE.replace('  mode: dry-run', '  kubeconfig: kube.yaml'),
    env: SECRET,
    problems: (t) => [`${at(t, 'kube.yaml')} kubernetes.kubeconfig: kubeconfig file $dir/kube.yaml not found (kubernetes.kubeconfig)`],
  },
  'a kubeconfig that is not YAML': {
    config: BASE.replace('  mode: dry-run', '  kubeconfig: kube.yaml'),
    files: { 'kube.yaml': 'apiVersion: v1\nusers:\n- name: u\n  user: { token: "kube-token-c3d4 }\n' },
    env: SECRET,
    never: ['kube-token-c3d4'],
    problems: (t) => [`${at(t, 'kube.yaml')} kubernetes.kubeconfig: kubeconfig $dir/kube.yaml is not valid YAML: Missing closing "quote (line 5, column 1)`],
  },
  'a context that the kubeconfig does not have': {
    config: BASE.replace('  mode: dry-run', '  kubeconfig: kube.yaml\n  context: staging'),
    files: { 'kube.yaml': kubeconfig() },
    env: SECRET,
    problems: (t) => [`${at(t, 'staging')} kubernetes.context: context "staging" not found in kubeconfig $dir/kube.yaml; available contexts: test`],
  },
  'mode kubeconfig with no kubeconfig anywhere': {
    config: BASE.replace('  mode: dry-run', '  mode: kubeconfig'),
    env: SECRET,
    problems: (t) => [`${at(t, 'kubeconfig\n')} kubernetes.mode: kubernetes.mode is kubeconfig but no kubeconfig file was found (looked at: $dir/.kube/config)`],
  },
  'mode in-cluster outside a pod': {
    config: BASE.replace('  mode: dry-run', '  mode: in-cluster'),
    env: SECRET,
    problems: (t) => [`${at(t, 'in-cluster')} kubernetes.mode: kubernetes.mode is in-cluster but KUBERNETES_SERVICE_HOST is not set (is fluxgate running in a pod?)`],
  },
  'a kubeconfig naming a certificate file that does not exist': {
    config: BASE.replace('  mode: dry-run', '  kubeconfig: kube.yaml'),
    files: { 'kube.yaml': kubeconfig({ cluster: { 'certificate-authority': 'ca.crt' } }) },
    env: SECRET,
    problems: (t) => [`${at(t, 'kube.yaml')} kubernetes.kubeconfig: kubeconfig $dir/kube.yaml, context test: certificate-authority $dir/ca.crt not found`],
  },
  'a pluginsDir that does not exist': {
    config: `pluginsDir: plugins\n${BASE}`,
    env: SECRET,
    problems: () => ['1:13 pluginsDir: pluginsDir $dir/plugins: no such file'],
  },
  'a placeholder secret while a kubeconfig is in reach': {
    config: BASE.replace('  mode: dry-run', '  kubeconfig: kube.yaml'),
    files: { 'kube.yaml': kubeconfig() },
    env: { GITHUB_WEBHOOK_SECRET: 'Change-Me' },
    never: ['Change-Me'],
    problems: (t) => [
      `${at(t, '{ env: GITHUB')} providers[0].secret: environment variable GITHUB_WEBHOOK_SECRET holds a placeholder, not a secret, and fluxgate would send reconcile requests (kubernetes kubeconfig: $dir/kube.yaml (context test) → https://127.0.0.1:1): set GITHUB_WEBHOOK_SECRET to the real secret, or try fluxgate without a cluster: $serve --dry-run`,
    ],
  },
  'a placeholder secret file while $KUBECONFIG names a kubeconfig': {
    config: BASE.replace('  mode: dry-run', '  mode: auto').replace('{ env: GITHUB_WEBHOOK_SECRET }', '{ file: github-secret }'),
    files: { 'kube.yaml': kubeconfig(), 'github-secret': '<your-webhook-secret>\n' },
    env: { KUBECONFIG: '$dir/kube.yaml' },
    never: ['your-webhook-secret'],
    problems: (t) => [
      `${at(t, '{ file:')} providers[0].secret: secret file github-secret holds a placeholder, not a secret, and fluxgate would send reconcile requests (kubernetes kubeconfig: $dir/kube.yaml (context test) → https://127.0.0.1:1): put the real secret in github-secret, or try fluxgate without a cluster: $serve --dry-run`,
    ],
  },
  'the admin listener on the webhook address': {
    config: BASE.replace('  address: 127.0.0.1:0\n  adminAddress: 127.0.0.1:0\n', '  address: 0.0.0.0:9292\n  adminAddress: 0.0.0.0:9292\n'),
    env: SECRET,
    problems: (t) => [`${at(t, '0.0.0.0:9292\nkube')} server.adminAddress: the admin listener needs its own address: the webhook port answers only /hook/* and /healthz`],
  },
  'a placeholder admin token while a kubeconfig is in reach': {
    config: `${BASE.replace('  mode: dry-run', '  kubeconfig: kube.yaml')}admin:\n  token: { env: ADMIN_TOKEN }\n`,
    files: { 'kube.yaml': kubeconfig() },
    env: { ...SECRET, ADMIN_TOKEN: 'changeme' },
    never: ['changeme'],
    problems: (t) => [
      `${at(t, '{ env: ADMIN')} admin.token: environment variable ADMIN_TOKEN holds a placeholder, not a secret, and fluxgate would send reconcile requests (kubernetes kubeconfig: $dir/kube.yaml (context test) → https://127.0.0.1:1): set ADMIN_TOKEN to the real secret, or try fluxgate without a cluster: $serve --dry-run`,
    ],
  },
  'an admin token file that does not exist': {
    config: `${BASE}admin:\n  token: { file: admin-token }\n`,
    env: SECRET,
    problems: (t) => [`${at(t, '{ file: admin')} admin.token: cannot read secret file admin-token: no such file`],
  },
  'a malformed GitLab signing token': {
    config: BASE.replace('targets:', '  - name: gitlab\n    type: gitlab\n    signingSecret: { env: GITLAB_SIGNING_TOKEN }\ntargets:'),
    env: { ...SECRET, GITLAB_SIGNING_TOKEN: 'whsec_c2hvcnQ=' },
    never: ['c2hvcnQ'],
    problems: (t) => [
      `${at(t, '{ env: GITLAB')} providers[1].signingSecret: a signing secret is whsec_ followed by the base64 of 24 to 64 bytes, and this one has 5`,
    ],
  },
  'every problem at once, in file order': {
    config: `pluginsDir: plugins\n${BASE}`
      .replace('127.0.0.1:0\n', '127.0.0.1:0\n  tls: { certFile: tls.crt, keyFile: tls.key }\n')
      .replace('  mode: dry-run', '  kubeconfig: kube.yaml')
      .replace('targets:', '  - name: gitlab\n    type: gitlab\n    secret: { file: gitlab-token }\n    signingSecret: { value: "whsec_!!" }\ntargets:')
      .replace('providers: [github]', 'providers: [github, bitbucket]'),
    files: { 'tls.crt': () => pki.cert, 'tls.key': () => pki.otherKey, 'gitlab-token': 'changeme\n' },
    problems: (t) => [
      '1:13 pluginsDir: pluginsDir $dir/plugins: no such file',
      `${at(t, 'tls.key')} server.tls.keyFile: $dir/tls.key is not the private key of the certificate in $dir/tls.crt`,
      `${at(t, 'kube.yaml')} kubernetes.kubeconfig: kubeconfig file $dir/kube.yaml not found (kubernetes.kubeconfig)`,
      `${at(t, '{ env: GITHUB')} providers[0].secret: environment variable GITHUB_WEBHOOK_SECRET is not set`,
      // The Kubernetes target is unknown (its kubeconfig is missing): placeholders are refused.
      `${at(t, '{ file: gitlab')} providers[1].secret: secret file gitlab-token holds a placeholder, not a secret, and fluxgate would send reconcile requests (kubernetes.mode auto): put the real secret in gitlab-token, or try fluxgate without a cluster: $serve --dry-run`,
      `${at(t, '{ value: "whsec')} providers[1].signingSecret: a signing secret is whsec_ followed by base64, and the rest of this one is not base64`,
      `${at(t, 'bitbucket')} targets[0].providers[1]: no provider named "bitbucket"`,
    ],
  },
};

describe('validate and serve refuse the same config with the same lines', () => {
  test.each(Object.keys(cases))('%s', async (name) => {
    const spec = cases[name]!;
    const dir = join(scratch.path, name.replace(/[^a-z]+/gi, '-'));
    mkdirSync(dir);
    // Run from outside the checkout: the command named is the checkout's bun and script, on this config.
    const serve = `${root}/node_modules/.bin/bun ${mainScript} serve --config ${join(dir, 'fluxgate.yaml')}`;
    const expand = (text: string) => text.replaceAll('$dir', dir).replaceAll('$serve', serve);
    for (const [file, content] of Object.entries(spec.files ?? {})) writeFileSync(join(dir, file), typeof content === 'function' ? content() : content);
    const path = join(dir, 'fluxgate.yaml');
    writeFileSync(path, spec.config);
    const env = Object.fromEntries(Object.entries(spec.env ?? {}).map(([key, value]) => [key, expand(value)]));

    const [validated, served] = await Promise.all([
      runIsolated(['validate', path], { cwd: dir, env }),
      runIsolated(['serve', '--config', path], { cwd: dir, env, guardMs: 20_000 }),
    ]);
    const problems = spec.problems(spec.config).map((line) => `${path}:${expand(line)}`);
    const expected = `${problems.join('\n')}\n${problems.length} problem${problems.length === 1 ? '' : 's'} in ${path}\n`;
    expect(validated.stderr).toBe(expected);
    expect(validated.code).toBe(1);
    expect(served.stderr).toBe(expected);
    expect(served.code).toBe(1);
    for (const secret of spec.never ?? []) expect(validated.stderr + served.stderr).not.toContain(secret);
  });
});

describe('placeholders are accepted when nothing is sent to a cluster', () => {
  test('validate --dry-run and serve --dry-run accept a placeholder that would otherwise be refused', async () => {
    const dir = join(scratch.path, 'dry-run-flag');
    mkdirSync(dir);
    writeFileSync(join(dir, 'kube.yaml'), kubeconfig());
    writeFileSync(join(dir, 'fluxgate.yaml'), BASE.replace('  mode: dry-run', '  kubeconfig: kube.yaml'));
    const env = { GITHUB_WEBHOOK_SECRET: 'change-me' };
    const refused = await runIsolated(['validate', 'fluxgate.yaml'], { cwd: dir, env });
    expect(refused.code).toBe(1);
    const validated = await runIsolated(['validate', '--dry-run', 'fluxgate.yaml'], { cwd: dir, env });
    expect(validated.stdout).toBe('fluxgate.yaml: ok (1 provider, 1 target; kubernetes dry-run: reconcile requests are logged, not sent)\n');
    expect(validated.code).toBe(0);
    const serve = await startIsolatedServe(['--dry-run', '--config', 'fluxgate.yaml'], { cwd: dir, env });
    expect(serve.lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'kubernetes')).toMatchObject({ mode: 'dry-run' });
    expect(await serve.stop()).toBe(0);
  });

  test('with no cluster configured, auto mode is dry-run and a placeholder is accepted', async () => {
    const dir = join(scratch.path, 'no-cluster');
    mkdirSync(dir);
    writeFileSync(join(dir, 'fluxgate.yaml'), BASE.replace('  mode: dry-run', '  mode: auto'));
    const validated = await runIsolated(['validate', 'fluxgate.yaml'], { cwd: dir, env: { GITHUB_WEBHOOK_SECRET: 'change-me' } });
    expect(validated.stdout).toStartWith('fluxgate.yaml: ok (1 provider, 1 target; kubernetes dry-run: reconcile requests are logged, not sent)\nnote: no Kubernetes cluster configured');
    expect(validated.code).toBe(0);
  });
});

describe('what the loader hands serve is what it checked', () => {
  test('serve listens with the checked TLS certificate', async () => {
    const dir = join(scratch.path, 'tls-ok');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tls.crt'), pki.cert);
    writeFileSync(join(dir, 'tls.key'), pki.key);
    writeFileSync(join(dir, 'fluxgate.yaml'), BASE.replace('127.0.0.1:0\n', '127.0.0.1:0\n  tls: { certFile: tls.crt, keyFile: tls.key }\n'));
    const serve = await startIsolatedServe(['--config', 'fluxgate.yaml'], { cwd: dir, env: SECRET });
    try {
      const response = await fetch(`${serve.url.replace('http:', 'https:')}/healthz`, { tls: { rejectUnauthorized: false } });
      expect(response.status).toBe(200);
    } finally {
      await serve.stop();
    }
  });
});
