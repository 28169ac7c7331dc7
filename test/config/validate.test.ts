import { describe, expect, test } from 'bun:test';
import { checkConfig, configProblems } from '../support/config-check.ts';
import { TargetConfig } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/validate.ts';

const check = checkConfig;
const problems = configProblems;

const valid = `server:
  address: 127.0.0.1:9292
providers:
  - name: github
    type: github
    secret: { env: GITHUB_WEBHOOK_SECRET }
targets:
  - name: app
    providers: [github]
    match: { repository: org/repo, branches: [main] }
    resources:
      - kind: GitRepository
        name: app
        namespace: flux-system
`;

describe('config validation', () => {
  test('a valid config gets every default', () => {
    const config = check(valid);
    expect(config.server).toMatchObject({
      address: '127.0.0.1:9292',
      maxBodySize: 4 * 1024 * 1024,
      maxBodyBytesInFlight: 32 * 1024 * 1024,
      bodyTimeout: 10_000,
      maxConcurrentRequests: 512,
      idleTimeout: 10_000,
      shutdownTimeout: 25_000,
    });
    expect(config.kubernetes).toMatchObject({ mode: 'auto', requestTimeout: 10_000 });
    // Durations and sizes arrive parsed: milliseconds and bytes.
    expect(config.reconcile).toMatchObject({ debounce: 2000, concurrency: 16, retry: { maxAge: 3_600_000, initialDelay: 250, maxDelay: 30_000 } });
    expect(config.state).toEqual({ store: 'sqlite', sync: 'full', maxSize: 256 * 2 ** 20, retention: { maxAge: 168 * 3_600_000, failures: 1000 } });
  });

  test('a typo in a key is reported with its line and column, and the key meant', () => {
    expect(problems(valid.replace('  address:', '  adress:'))).toEqual(['fluxgate.yaml:2:3 server.adress: unknown key "adress" (did you mean "address"?)']);
  });

  test.each([
    ['a transposition', valid.replace('    secret:', '    secert:'), 'providers[0].secert: unknown key "secert" (did you mean "secret"?)'],
    ['another case', valid.replace('    secret:', '    Secret:'), 'providers[0].Secret: unknown key "Secret" (did you mean "secret"?)'],
    ['a key of a nested object', valid.replace('branches:', 'branchs:'), 'targets[0].match.branchs: unknown key "branchs" (did you mean "branches"?)'],
    ['a key of a secret reference', valid.replace('{ env: GITHUB', '{ evn: GITHUB'), 'providers[0].secret: expected one of { env: NAME }, { file: PATH }, { value: "..." } (did you mean "env"?)'],
    ['a value of a fixed set', `${valid}kubernetes:\n  mode: dryrun\n`, 'kubernetes.mode: expected one of "auto", "kubeconfig", "in-cluster", "dry-run" (did you mean "dry-run"?)'],
  ])('did you mean: %s', (_name, text, expected) => {
    expect(problems(text)).toEqual([expect.stringContaining(expected)]);
  });

  test.each([
    ['nothing close', valid.replace('    secret:', '    password:'), 'providers[0].password: unknown key "password"'],
    ['a key of another object', valid.replace('  address:', '  secret:'), 'server.secret: unknown key "secret"'],
    ['a far secret source', valid.replace('{ env: GITHUB', '{ vault: GITHUB'), 'providers[0].secret: expected one of { env: NAME }, { file: PATH }, { value: "..." }'],
  ])('no suggestion: %s', (_name, text, expected) => {
    expect(problems(text)).toEqual([expect.stringMatching(new RegExp(`${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))]);
  });

  test('every problem is reported, in file order', () => {
    const text = valid
      .replace('type: github', 'type: github\n    secrets: { env: X }')
      .replace('name: app\n        namespace: flux-system', 'name: app')
      .replace('127.0.0.1:9292', '127.0.0.1:9292\n  maxBodySize: 25 megabytes');
    expect(problems(text)).toEqual([
      'fluxgate.yaml:3:16 server.maxBodySize: expected a size such as 512KiB, 25MiB',
      'fluxgate.yaml:7:5 providers[0].secrets: unknown key "secrets" (did you mean "secret"?)',
      'fluxgate.yaml:14:9 targets[0].resources[0].namespace: "namespace" is required',
    ]);
  });

  test('a bad secret reference names the accepted forms', () => {
    expect(problems(valid.replace('{ env: GITHUB_WEBHOOK_SECRET }', '{ vault: x }'))).toEqual([
      'fluxgate.yaml:6:13 providers[0].secret: expected one of { env: NAME }, { file: PATH }, { value: "..." }',
    ]);
  });

  test('YAML syntax errors have positions', () => {
    const [first] = problems('server:\n  address: [oops\nproviders: []\n');
    expect(first).toMatch(/^fluxgate\.yaml:\d+:\d+ /);
  });

  test.each([
    ['unknown provider type', valid.replace('type: github', 'type: githab'), 'fluxgate.yaml:5:11 providers[0].type: unknown provider type "githab" (did you mean "github"?'],
    ['missing secret', valid.replace('    secret: { env: GITHUB_WEBHOOK_SECRET }\n', ''), 'fluxgate.yaml:4:5 providers[0]: provider "github" needs secret'],
    ['target names a missing provider', valid.replace('providers: [github]', 'providers: [gitlab]'), 'fluxgate.yaml:9:17 targets[0].providers[0]: no provider named "gitlab"'],
    ['unknown kind without apiVersion', valid.replace('kind: GitRepository', 'kind: Widget'), 'fluxgate.yaml:12:15 targets[0].resources[0].kind: kind "Widget" is not a Flux or Argo CD kind'],
    ['name and matchLabels together', valid.replace('name: app\n        namespace', 'name: app\n        matchLabels: { a: b }\n        namespace'), 'targets[0].resources[0].matchLabels: give either name or matchLabels, not both'],
    ['bad branch glob', valid.replace('branches: [main]', 'branches: ["!dev"]'), 'targets[0].match:'],
    ['generic without allowUnsigned', valid.replace('type: github\n    secret: { env: GITHUB_WEBHOOK_SECRET }', 'type: generic'), 'providers[0].type: type "generic" checks no signature'],
    ['allowUnsigned on a signing provider', valid.replace('type: github', 'type: github\n    allowUnsigned: true'), 'providers[0].allowUnsigned: allowUnsigned has no effect when a secret is configured: remove one of them'],
    ['maxDelay below initialDelay', `${valid}reconcile:\n  retry: { initialDelay: 5s, maxDelay: 1s }\n`, 'reconcile.retry.maxDelay: maxDelay 1s is shorter than initialDelay 5s'],
    ['duplicate provider', valid.replace('targets:', '  - name: github\n    type: gitlab\n    secret: { value: x }\ntargets:'), 'providers[1].name: provider "github" is defined twice'],
  ])('%s', (_name, text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });

  test('generic with allowUnsigned and a custom kind with apiVersion and annotation are accepted', () => {
    const text = valid
      .replace('type: github\n    secret: { env: GITHUB_WEBHOOK_SECRET }', 'type: generic\n    allowUnsigned: true')
      .replace('kind: GitRepository', 'kind: Widget\n        apiVersion: example.com/v1\n        annotation: example.com/refresh');
    expect(check(text).targets[0]!.resources[0]!.kind).toBe('Widget');
  });
});

describe('the loader\'s shortcut for large configs', () => {
  // parseConfig walks only the non-target sections for defaults and transforms; that is right only while the
  // target schema has none of either. A default or a transform added there must fail this test first.
  test('targets carry no defaults and no transforms', () => {
    const found: string[] = [];
    const walk = (schema: unknown, path: string) => {
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string | symbol, unknown>;
      if ('default' in node) found.push(`${path}: default`);
      if (Object.getOwnPropertySymbols(node).some((symbol) => String(symbol).includes('TypeBox.Transform'))) found.push(`${path}: transform`);
      for (const [key, value] of Object.entries(node)) walk(value, `${path}.${key}`);
    };
    walk(TargetConfig, 'targets[]');
    expect(found).toEqual([]);
  });

  test('a large config is read by the fast reader and still located when a problem needs a position', () => {
    const targets = Array.from({ length: 2000 }, (_, i) => `  - name: t${i}\n    providers: [github]\n    match: { repository: org/r${i}, branches: ['release/*'] }\n    resources: [{ kind: GitRepository, name: r${i}, namespace: flux-system }]`).join('\n');
    const text = valid.replace(/targets:[\s\S]*$/, `targets:\n${targets}\n  - name: broken\n    providers: [github]\n    resources: [{ kind: GitRepository, name: x }]\n`);
    expect(problems(text)).toEqual([`fluxgate.yaml:${text.split('\n').length - 1}:17 targets[2000].resources[0].namespace: "namespace" is required`]);
  });
});

describe('state.store: nats', () => {
  const withState = (state: string) => `providers:\n  - { name: github, type: github, secret: { value: x } }\nstate:\n${state}\n`;

  test('needs state.nats (the servers); a lease under 1s is refused; a full block validates', () => {
    expect(configProblems(withState('  store: nats'))).toEqual(['fluxgate.yaml:4:10 state.store: store: nats needs state.nats: { servers: [nats://…] } (the NATS servers with JetStream the replicas share)']);
    expect(configProblems(withState('  store: nats\n  nats: { servers: [nats://127.0.0.1:4222], lease: 500ms }'))).toEqual([
      'fluxgate.yaml:5:52 state.nats.lease: lease 500ms is too short: at least 1s (a replica renews it every third of it)',
    ]);
    expect(checkConfig(withState('  store: nats\n  nats:\n    servers: [nats://nats.nats.svc:4222]\n    replicas: 3')).state.nats).toMatchObject({ name: 'fluxgate', replicas: 3, lease: 15_000 });
  });
});
