/**
 * What a user sees when a host says no: a token without the rights (the permission to add is named), a bad
 * token, a rate limit (waited out as the host asks, with a progress line, on an injected sleep), many hooks over
 * several pages. One scope failing never stops the others, and no secret or token is ever printed.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { startFakeGitHub, type FakeGitHub } from '../support/git-hosts/fake-github.ts';
import { startFakeGitLab, type FakeGitLab } from '../support/git-hosts/fake-gitlab.ts';
import { harness, PUBLIC_URL, SECRETS, type Run } from './harness.ts';

const h = harness();
afterAll(() => h.remove());

let github: FakeGitHub;
let gitlab: FakeGitLab;
const RESTRICTED = 'ghp_restricted0123456789';
const DEVELOPER = 'glpat-developer-0a1b2c3d';
beforeEach(() => {
  github = startFakeGitHub({ tokens: { [SECRETS.GH_TOKEN]: { scopes: 'admin:org_hook, admin:repo_hook' }, [RESTRICTED]: { scopes: 'repo', admin: ['repos/acme/app'] } } });
  gitlab = startFakeGitLab({ tokens: { [SECRETS.GL_TOKEN]: {}, [DEVELOPER]: { maintainer: ['projects/acme/app'] } } });
});
afterEach(async () => {
  await github.stop();
  await gitlab.stop();
});

const GITHUB_URL = `${PUBLIC_URL}/hook/github`;

function config(scopes = { repositories: '[acme/app, acme/api]', organization: 'acme', projects: '[acme/app, acme/other]', groups: '[platform]' }): string {
  return `server: { publicUrl: ${PUBLIC_URL} }
providers:
  - name: github
    type: github
    secret: { env: GH_SECRET }
    register: { token: { env: GH_TOKEN }, apiUrl: ${github.origin}, repositories: ${scopes.repositories}, organization: ${scopes.organization} }
  - name: gitlab
    type: gitlab
    secret: { env: GL_SECRET }
    register: { token: { env: GL_TOKEN }, apiUrl: ${gitlab.origin}, projects: ${scopes.projects}, groups: ${scopes.groups} }
`;
}

/** No secret and no token appears anywhere in what the command printed. */
function expectNoSecrets(run: Run, ...more: string[]): void {
  for (const value of [...Object.values(SECRETS), ...more]) {
    expect(run.out).not.toContain(value);
    expect(run.err).not.toContain(value);
  }
}

describe('fluxgate register when a host says no', () => {
  test('a token without admin rights: the message names the permission to add; the scopes it may manage still get their hook', async () => {
    const run = await h.config(config())({}, { GH_TOKEN: RESTRICTED, GL_TOKEN: DEVELOPER });
    expect(run.code).toBe(1);
    const lines = run.out.split('\n');
    expect(lines.find((line) => line.includes('repository acme/app'))).toContain('create');
    expect(lines.find((line) => line.includes('repository acme/api'))).toContain(
      'GitHub answered 404 (Not Found) for repository acme/api: the token needs the admin:repo_hook scope (classic token; this one has repo) or the repository permission "Webhooks: read and write" (fine-grained token), and must belong to a user with admin rights on acme/api',
    );
    expect(lines.find((line) => line.includes('organization acme'))).toContain('the token needs the admin:org_hook scope (classic token; this one has repo)');
    expect(lines.find((line) => line.includes('project acme/other'))).toContain(
      'GitLab answered 403 (403 Forbidden) for project acme/other: managing its hooks needs a token with the api scope, from a user with the Maintainer role (or Owner) on the project',
    );
    expect(lines.find((line) => line.includes('group platform'))).toContain('from a user with the Owner role on the group');
    expect(run.out).toContain('created 2, updated 0, removed 0; 0 unchanged; 4 failed');
    expect(github.hooks('repos/acme/app')).toHaveLength(1);
    expect(gitlab.hooks('projects/acme/app')).toHaveLength(1);
    expectNoSecrets(run, RESTRICTED, DEVELOPER);
  });

  test('a host it cannot reach is named, with what to check: a name that does not resolve, a refused connection', async () => {
    const unreachable = `server: { publicUrl: ${PUBLIC_URL} }
providers:
  - name: github
    type: github
    secret: { env: GH_SECRET }
    register: { token: { env: GH_TOKEN }, apiUrl: https://api.github.fluxgate-test.invalid, repositories: [acme/app] }
  - name: gitlab
    type: gitlab
    secret: { env: GL_SECRET }
    register: { token: { env: GL_TOKEN }, apiUrl: http://127.0.0.1:1, projects: [acme/app] }
`;
    const run = await h.config(unreachable)({ output: 'json' });
    expect(run.code).toBe(1);
    const [dns, refused] = JSON.parse(run.out).changes.map((row: { error: string }) => row.error);
    expect(dns).toMatch(/^cannot reach GitHub at api\.github\.fluxgate-test\.invalid: the name api\.github\.fluxgate-test\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\): check this machine's network, DNS and proxy \(and register\.apiUrl, if you set one\)$/);
    expect(refused).toBe("cannot reach GitLab at 127.0.0.1:1: the connection was refused (ECONNREFUSED): check the address and port (and register.apiUrl, if you set one), and that nothing blocks it");
    expectNoSecrets(run);
  });

  test('a bad token is called that, for every scope, and the JSON output says the same without the token', async () => {
    const run = await h.config(config())({ output: 'json' }, { GH_TOKEN: 'ghp_revoked00000000', GL_TOKEN: 'glpat-revoked000000' });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.out);
    expect(result.summary).toEqual({ create: 0, update: 0, remove: 0, unchanged: 0, failed: 6 });
    expect(result.changes.map((row: any) => row.error)).toEqual([
      ...Array(3).fill('GitHub refused the token (401: Bad credentials): register.token is wrong, expired or revoked'),
      ...Array(3).fill('GitLab refused the token (401: 401 Unauthorized): register.token is wrong, expired or revoked'),
    ]);
    expectNoSecrets(run, 'ghp_revoked00000000', 'glpat-revoked000000');
  });

  test('a 429 with Retry-After is waited out (announced, on the injected sleep) and the request retried', async () => {
    github.queue(() => new Response(JSON.stringify({ message: 'You have exceeded a secondary rate limit.' }), { status: 429, headers: { 'Retry-After': '42', 'Content-Type': 'application/json' } }));
    gitlab.queue(() => new Response(JSON.stringify({ message: 'Retry later' }), { status: 429, headers: { 'Retry-After': '7', 'RateLimit-Reset': '1768478407' } }));
    const run = await h.config(config({ repositories: '[acme/app]', organization: 'acme', projects: '[acme/app]', groups: '[platform]' }))();
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([42_000, 7_000]);
    expect(run.err.split('\n')).toEqual([
      `rate-limited (Retry-After: 42): waiting 42s before GET ${new URL(github.origin).host}/repos/acme/app/hooks (attempt 2 of 4)`,
      `rate-limited (Retry-After: 7): waiting 7s before GET ${new URL(gitlab.origin).host}/api/v4/projects/acme%2Fapp/hooks (attempt 2 of 4)`,
    ]);
    expect(github.requests.slice(0, 3).map((request) => `${request.method} ${request.path}`)).toEqual(['GET /repos/acme/app/hooks?per_page=100', 'GET /repos/acme/app/hooks?per_page=100', 'POST /repos/acme/app/hooks']);
    expect(gitlab.requests.slice(0, 3).map((request) => `${request.method} ${request.path}`)).toEqual(['GET /api/v4/projects/acme%2Fapp/hooks?per_page=100', 'GET /api/v4/projects/acme%2Fapp/hooks?per_page=100', 'POST /api/v4/projects/acme%2Fapp/hooks']);
    expect(run.out).toContain('created 4');
  });

  test("GitHub's primary rate limit (403, X-RateLimit-Remaining: 0) waits until X-RateLimit-Reset; a wait beyond 15 minutes is not taken", async () => {
    const reset = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000 + 120;
    github.queue(() => new Response(JSON.stringify({ message: 'API rate limit exceeded for user ID 1.' }), { status: 403, headers: { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(reset) } }));
    const waited = await h.config(config({ repositories: '[acme/app]', organization: 'acme', projects: '[acme/app]', groups: '[platform]' }))();
    expect(waited.sleeps).toEqual([121_000]);
    expect(waited.code).toBe(0);

    github.queue(() => new Response(JSON.stringify({ message: 'API rate limit exceeded for user ID 1.' }), { status: 403, headers: { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(reset + 3600) } }));
    const refused = await h.config(config({ repositories: '[acme/app]', organization: 'acme', projects: '[acme/app]', groups: '[platform]' }))();
    expect(refused.sleeps).toEqual([]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('GitHub is still rate-limiting this token (403: API rate limit exceeded for user ID 1.); run again later');
    expect(refused.out).toContain('organization acme');
  });

  test('250 hooks across 3 pages are all read: the one fluxgate wants, on the last page, is found, not created twice', async () => {
    const others = (host: string) => Array.from({ length: 249 }, (_, index) => `https://${host}.example.net/hook/${index}`);
    github.seed('repos/acme/app', others('ci').map((url) => ({ active: true, events: ['push'], config: { url, content_type: 'json', insecure_ssl: '0' } })));
    github.seed('repos/acme/app', [{ active: true, events: ['push'], config: { url: GITHUB_URL, content_type: 'json', insecure_ssl: '0', secret: SECRETS.GH_SECRET } }]);
    gitlab.seed('projects/acme/app', others('ci').map((url) => ({ url, flags: { push_events: true }, enable_ssl_verification: true })));
    gitlab.seed('projects/acme/app', [{ url: `${PUBLIC_URL}/hook/gitlab`, flags: { push_events: true, tag_push_events: true }, enable_ssl_verification: true }]);
    const run = await h.config(config({ repositories: '[acme/app]', organization: 'acme', projects: '[acme/app]', groups: '[platform]' }))({ dryRun: true, prune: true, output: 'json' });
    expect(github.requests.filter((request) => request.path.startsWith('/repos/acme/app')).map((request) => request.path)).toEqual([
      '/repos/acme/app/hooks?per_page=100',
      '/repos/acme/app/hooks?per_page=100&page=2',
      '/repos/acme/app/hooks?per_page=100&page=3',
    ]);
    expect(gitlab.requests.filter((request) => request.path.includes('acme%2Fapp')).map((request) => request.path)).toEqual([
      '/api/v4/projects/acme%2Fapp/hooks?per_page=100',
      '/api/v4/projects/acme%2Fapp/hooks?per_page=100&page=2',
      '/api/v4/projects/acme%2Fapp/hooks?per_page=100&page=3',
    ]);
    const rows = JSON.parse(run.out).changes;
    // Hooks of other services on the same host are never pruned: only URLs under this gateway's /hook/.
    expect(rows.filter((row: any) => row.scope.name === 'acme/app').map((row: any) => [row.provider, row.action, row.hookId])).toEqual([
      ['github', 'unchanged', 250],
      ['gitlab', 'unchanged', 250],
    ]);
  });
});
