/**
 * `fluxgate explain` prints the webhook path's own decision, offline: for a recorded delivery (real published
 * payloads, with headers as curl records them) or a repository and ref given by hand, every target with its
 * verdict. Checked against what a running gateway answers for the same delivery.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { runExplain, type ExplainOptions } from '../../src/commands/explain.ts';
import { startTestGateway } from '../support/gateway.ts';
import { runIsolated } from '../support/isolated-cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { deliveryBody, githubWebhook, gitlabWebhook, post } from '../support/webhooks.ts';

const SECRET = 'explain-test-secret-2a9f';
const dir = tempDir();
afterAll(() => dir.remove());

const CONFIG = `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: HOOK_SECRET } }
  - { name: gitlab, type: gitlab, secret: { env: HOOK_SECRET } }
  - { name: harbor, type: harbor, secret: { env: HOOK_SECRET } }
targets:
  - name: app
    providers: [github, gitlab]
    match: { repository: your-org/your-repo, branches: [main], paths: ["deploy/**"] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
  - name: release
    providers: [github]
    match: { repository: your-org/your-repo, tags: ["v*"] }
    resources: [{ kind: GitRepository, name: app-release, namespace: flux-system }]
  - name: other
    providers: [github]
    match: { repository: your-org/other }
    resources: [{ kind: Kustomization, namespace: apps, matchLabels: { app: web } }]
  - name: images
    providers: [harbor]
    match: { images: [harbor.example.com/library/nginx] }
    resources: [{ kind: ImageRepository, name: nginx, namespace: flux-system }]
`;
const configPath = join(dir.path, 'fluxgate.yaml');
writeFileSync(configPath, CONFIG);

async function explain(options: Partial<ExplainOptions>, env: Record<string, string> = { HOOK_SECRET: SECRET }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExplain({ path: configPath, builtins: builtinProviders, env: { HOME: dir.path, ...env }, output: 'text', ...options }, (line) => out.push(line), (line) => err.push(line));
  return { code, out, err };
}

describe('by hand', () => {
  test('a push to main touching deploy/: the matching target and the reason for every other', async () => {
    const result = await explain({ provider: 'github', repository: 'your-org/your-repo', branch: 'main', paths: ['deploy/app.yaml'] });
    expect(result).toEqual({
      code: 0,
      err: [],
      out: [
        'provider github (github) · event push · repository your-org/your-repo · ref refs/heads/main · 1 changed path',
        'would reconcile (1 target):',
        '  ✓ app → GitRepository flux-system/app',
        'would not:',
        '  ✗ release: branch main ignored: watching tags [v*]',
        '  ✗ other: repository your-org/your-repo is not your-org/other',
      ],
    });
  });

  test('a path outside the filter, a tag, an image', async () => {
    expect((await explain({ provider: 'github', repository: 'your-org/your-repo', branch: 'main', paths: ['docs/readme.md'] })).out).toContain('  ✗ app: no changed path matches [deploy/**]');
    expect((await explain({ provider: 'github', repository: 'git@github.com:your-org/your-repo.git', tag: 'v1.2.0' })).out).toContain('  ✓ release → GitRepository flux-system/app-release');
    expect((await explain({ provider: 'harbor', image: 'harbor.example.com/library/nginx:1.27' })).out).toEqual([
      'provider harbor (harbor) · event PUSH_ARTIFACT · image harbor.example.com/library/nginx:1.27',
      'would reconcile (1 target):',
      '  ✓ images → ImageRepository flux-system/nginx',
    ]);
  });

  test('an event the provider does not listen to is ignored before any target', async () => {
    const result = await explain({ provider: 'github', repository: 'your-org/your-repo', branch: 'main', event: 'issues' });
    expect(result.out.at(-1)).toBe('ignored (200): event "issues" is not in events [push, ping]');
  });

  test('--output json for scripts', async () => {
    const result = await explain({ provider: 'github', repository: 'your-org/your-repo', branch: 'dev', output: 'json' });
    const parsed = JSON.parse(result.out.join('\n'));
    expect(parsed).toMatchObject({ provider: 'github', decision: 'unmatched', targets: [{ target: 'app', matched: false, reason: 'branch dev does not match [main]' }, { target: 'release' }, { target: 'other' }] });
  });
});

describe('a recorded delivery', () => {
  test('a GitLab push with its headers as curl -D writes them', async () => {
    const hook = gitlabWebhook(SECRET, { repository: 'your-org/your-repo', branch: 'main' });
    writeFileSync(join(dir.path, 'gitlab.json'), hook.body);
    writeFileSync(join(dir.path, 'gitlab.headers'), `HTTP/1.1 200 OK\r\n${Object.entries(hook.headers).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n`);
    const result = await explain({ provider: 'gitlab', payload: join(dir.path, 'gitlab.json'), headers: join(dir.path, 'gitlab.headers') });
    expect(result.out[0]).toStartWith('provider gitlab (gitlab) · event Push Hook · repository ');
    expect(result.out[0]).toContain('ref refs/heads/main');
  });

  test('a GitHub payload without headers needs --event; headers as a JSON object work too', async () => {
    writeFileSync(join(dir.path, 'push.json'), deliveryBody('github/push-new-branch.json', { repository: 'your-org/your-repo', branch: 'main' }));
    const without = await explain({ provider: 'github', payload: join(dir.path, 'push.json') });
    expect(without).toMatchObject({ code: 2, err: ['error: type github names the event in a header: give --headers FILE (as recorded) or --event NAME'] });
    writeFileSync(join(dir.path, 'push.headers.json'), JSON.stringify({ 'X-GitHub-Event': 'push', 'Content-Type': 'application/json' }));
    const withHeaders = await explain({ provider: 'github', payload: join(dir.path, 'push.json'), headers: join(dir.path, 'push.headers.json') });
    const withEvent = await explain({ provider: 'github', payload: join(dir.path, 'push.json'), event: 'push' });
    expect(withHeaders.out).toEqual(withEvent.out);
    expect(withEvent.out[0]).toStartWith('provider github (github) · event push · repository ');
  });

  test('explain says what the running gateway answers for the same delivery', async () => {
    const gateway = await startTestGateway({ config: CONFIG, env: { HOOK_SECRET: SECRET } });
    try {
      for (const rewrite of [{ branch: 'main' }, { branch: 'dev' }, { tag: 'v2.0.0' }]) {
        const hook = githubWebhook(SECRET, { repository: 'your-org/your-repo', ...rewrite });
        writeFileSync(join(dir.path, 'same.json'), hook.body);
        const explained = JSON.parse((await explain({ provider: 'github', payload: join(dir.path, 'same.json'), event: 'push', output: 'json' })).out.join('\n'));
        const answer = await post(gateway.hook('github'), hook);
        const body = (await answer.json()) as { targets?: number; ignored?: string };
        const matched = explained.targets.filter((target: { matched: boolean }) => target.matched).length;
        expect({ rewrite, status: answer.status, targets: body.targets }).toEqual({ rewrite, status: matched > 0 ? 202 : 200, targets: matched > 0 ? matched : undefined });
        if (matched > 0) continue;
        // The gateway lists the targets its index evaluated; explain lists every target, so each of those is in it.
        const listed = /^no target matched \((.*)\)$/.exec(body.ignored!)![1]!.split('; ').filter((part) => !/targets? watch/.test(part));
        const explainedReasons = explained.targets.map((target: { target: string; reason: string }) => `${target.target}: ${target.reason}`);
        expect(listed.length).toBeGreaterThan(0);
        for (const reason of listed) expect(explainedReasons).toContain(reason);
      }
    } finally {
      await gateway.stop();
    }
  });
});

test('without the secrets (another machine) it still explains, and says so', async () => {
  const result = await explain({ provider: 'github', repository: 'your-org/your-repo', branch: 'main', paths: ['deploy/x'] }, {});
  expect(result.out[0]).toBe(`note: secrets, TLS files or the kubeconfig did not load (3 problems: run fluxgate validate ${configPath}); explained without them`);
  expect(result.out).toContain('  ✓ app → GitRepository flux-system/app');
});

// Three fluxgate processes in turn: more than bun's default 5 s on a busy machine.
test('the command line: usage problems exit 2 and name what is missing', async () => {
  const missing = await runIsolated(['explain', '--config', configPath, '--provider', 'github'], { cwd: dir.path });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('give --payload FILE (a recorded delivery) or --repository R with --branch, --tag or --ref');
  const which = await runIsolated(['explain', '--config', configPath, '--repository', 'your-org/your-repo', '--branch', 'main'], { cwd: dir.path });
  expect(which.code).toBe(2);
  expect(which.stderr).toContain('--provider NAME is needed: the config has github, gitlab, harbor');
  const ok = await runIsolated(['explain', '--config', configPath, '--provider', 'github', '--repository', 'your-org/your-repo', '--tag', 'v1.0.0'], { cwd: dir.path, env: { HOOK_SECRET: SECRET } });
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain('✓ release → GitRepository flux-system/app-release');
}, 30_000);
