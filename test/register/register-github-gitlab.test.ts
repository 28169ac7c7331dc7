/**
 * `fluxgate register` against GitHub and GitLab as the issue asks: 3 repositories and an organization on GitHub,
 * 2 projects and a group on GitLab. Every request the command makes is asserted: method, path, credential, body.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { startFakeGitHub, type FakeGitHub } from '../support/git-hosts/fake-github.ts';
import { startFakeGitLab, type FakeGitLab } from '../support/git-hosts/fake-gitlab.ts';
import { harness, PUBLIC_URL, SECRETS } from './harness.ts';

const h = harness();
afterAll(() => h.remove());

let github: FakeGitHub;
let gitlab: FakeGitLab;
beforeEach(() => {
  github = startFakeGitHub({ tokens: { [SECRETS.GH_TOKEN]: { scopes: 'admin:org_hook, admin:repo_hook' } } });
  gitlab = startFakeGitLab({ tokens: { [SECRETS.GL_TOKEN]: {} } });
});
afterEach(async () => {
  await github.stop();
  await gitlab.stop();
});

function config(options: { githubEvents?: string; gitlabEvents?: string } = {}): string {
  return `server:
  publicUrl: ${PUBLIC_URL}
providers:
  - name: github
    type: github
    secret: { env: GH_SECRET }
${options.githubEvents ? `    events: ${options.githubEvents}\n` : ''}    register:
      token: { env: GH_TOKEN }
      apiUrl: ${github.origin}
      repositories: [acme/app, acme/api, acme/web]
      organization: acme-platform
  - name: gitlab
    type: gitlab
    secret: { env: GL_SECRET }
${options.gitlabEvents ? `    events: ${options.gitlabEvents}\n` : ''}    register:
      token: { env: GL_TOKEN }
      apiUrl: ${gitlab.origin}
      projects: [acme/app, acme/infra/deploy]
      groups: [platform]
`;
}

const GITHUB_URL = `${PUBLIC_URL}/hook/github`;
const GITLAB_URL = `${PUBLIC_URL}/hook/gitlab`;
const bearer = `Bearer ${SECRETS.GH_TOKEN}`;
const githubScopes = ['/repos/acme/app', '/repos/acme/api', '/repos/acme/web', '/orgs/acme-platform'];
const gitlabScopes = ['/api/v4/projects/acme%2Fapp', '/api/v4/projects/acme%2Finfra%2Fdeploy', '/api/v4/groups/platform'];
const gitlabFlags = (on: string[]) =>
  Object.fromEntries(
    ['deployment_events', 'issues_events', 'job_events', 'merge_requests_events', 'note_events', 'pipeline_events', 'push_events', 'releases_events', 'tag_push_events', 'wiki_page_events'].map((flag) => [flag, on.includes(flag)]),
  );
const listed = (scopes: string[], auth: string) => scopes.map((scope) => ({ method: 'GET', path: `${scope}/hooks?per_page=100`, auth }));

describe('fluxgate register on GitHub and GitLab', () => {
  test('creates each hook (3 repositories + 1 organization, 2 projects + 1 group), then a second run changes nothing', async () => {
    const run = h.config(config());
    const first = await run();
    expect(first.err).toBe('');
    expect(first.code).toBe(0);

    const githubHook = { name: 'web', active: true, events: ['push'], config: { url: GITHUB_URL, content_type: 'json', insecure_ssl: '0', secret: SECRETS.GH_SECRET } };
    expect(github.requests).toEqual(githubScopes.flatMap((scope) => [{ method: 'GET', path: `${scope}/hooks?per_page=100`, auth: bearer }, { method: 'POST', path: `${scope}/hooks`, auth: bearer, body: githubHook }]));
    const gitlabHook = { url: GITLAB_URL, ...gitlabFlags(['push_events', 'tag_push_events']), enable_ssl_verification: true, token: SECRETS.GL_SECRET };
    expect(gitlab.requests).toEqual(gitlabScopes.flatMap((scope) => [{ method: 'GET', path: `${scope}/hooks?per_page=100`, auth: SECRETS.GL_TOKEN }, { method: 'POST', path: `${scope}/hooks`, auth: SECRETS.GL_TOKEN, body: gitlabHook }]));
    expect(github.hooks('repos/acme/web')).toEqual([{ id: 3, active: true, events: ['push'], config: { url: GITHUB_URL, content_type: 'json', insecure_ssl: '0', secret: SECRETS.GH_SECRET } }]);
    expect(gitlab.hooks('groups/platform')).toMatchObject([{ url: GITLAB_URL, token: SECRETS.GL_SECRET, enable_ssl_verification: true, flags: { push_events: true, tag_push_events: true } }]);
    expect(first.out).toContain('created 7, updated 0, removed 0; 0 unchanged');

    github.requests.length = 0;
    gitlab.requests.length = 0;
    const second = await run();
    expect(second.code).toBe(0);
    expect(github.requests).toEqual(listed(githubScopes, bearer));
    expect(gitlab.requests).toEqual(listed(gitlabScopes, SECRETS.GL_TOKEN));
    expect(second.out).toContain('created 0, updated 0, removed 0; 7 unchanged');
  });

  test('a changed event list updates exactly that field, and nothing else', async () => {
    await h.config(config())();
    github.requests.length = 0;
    gitlab.requests.length = 0;
    const result = await h.config(config({ githubEvents: '[push, create, ping]', gitlabEvents: "['Push Hook']" }))();
    expect(result.code).toBe(0);
    const githubIds = [1, 2, 3, 4];
    expect(github.requests).toEqual(githubScopes.flatMap((scope, index) => [{ method: 'GET', path: `${scope}/hooks?per_page=100`, auth: bearer }, { method: 'PATCH', path: `${scope}/hooks/${githubIds[index]}`, auth: bearer, body: { events: ['create', 'push'] } }]));
    expect(gitlab.requests).toEqual(gitlabScopes.flatMap((scope, index) => [{ method: 'GET', path: `${scope}/hooks?per_page=100`, auth: SECRETS.GL_TOKEN }, { method: 'PUT', path: `${scope}/hooks/${index + 1}`, auth: SECRETS.GL_TOKEN, body: { url: GITLAB_URL, tag_push_events: false } }]));
    // The secrets stayed: an update that is not a rotation never touches them.
    expect(github.hooks('repos/acme/app')[0]!.config.secret).toBe(SECRETS.GH_SECRET);
    expect(result.out).toContain('events: push → create, push');
    expect(result.out).toContain('events: push_events, tag_push_events → push_events');
  });

  test('--dry-run prints the plan, changes nothing, exits 2, and the real run then does exactly that', async () => {
    // A hook with the right URL but the wrong events, one that is form-encoded and off, and a stale one of this gateway.
    github.seed('repos/acme/app', [{ active: true, events: ['push', 'pull_request'], config: { url: GITHUB_URL, content_type: 'json', insecure_ssl: '0', secret: 'x' } }]);
    github.seed('repos/acme/api', [{ active: false, events: ['push'], config: { url: GITHUB_URL, content_type: 'form', insecure_ssl: '1' } }]);
    github.seed('repos/acme/web', [{ active: true, events: ['push'], config: { url: `${PUBLIC_URL}/hook/old-name`, content_type: 'json', insecure_ssl: '0' } }]);
    gitlab.seed('projects/acme/app', [{ url: GITLAB_URL, flags: { push_events: true }, enable_ssl_verification: false }]);
    const run = h.config(config());
    const plan = await run({ dryRun: true, prune: true, output: 'json' });
    expect(plan.code).toBe(2);
    expect([...github.requests, ...gitlab.requests].every((request) => request.method === 'GET')).toBe(true);
    const planned = JSON.parse(plan.out);
    expect(planned.summary).toEqual({ create: 4, update: 3, remove: 1, unchanged: 0, failed: 0 });
    expect(planned.changes.find((row: any) => row.scope.name === 'acme/api').fields).toEqual([
      { field: 'content_type', from: 'form', to: 'json' },
      { field: 'active', from: 'false', to: 'true' },
      { field: 'tls_verification', from: 'off', to: 'on' },
    ]);

    github.requests.length = 0;
    const applied = await run({ prune: true, output: 'json' });
    expect(applied.code).toBe(0);
    const done = JSON.parse(applied.out);
    expect(done.changes).toEqual(planned.changes);
    expect(done.summary).toEqual(planned.summary);
    expect(github.requests.filter((request) => request.method !== 'GET')).toEqual([
      { method: 'PATCH', path: '/repos/acme/app/hooks/1', auth: bearer, body: { events: ['push'] } },
      { method: 'PATCH', path: '/repos/acme/api/hooks/2', auth: bearer, body: { active: true } },
      { method: 'PATCH', path: '/repos/acme/api/hooks/2/config', auth: bearer, body: { content_type: 'json', insecure_ssl: '0' } },
      { method: 'POST', path: '/repos/acme/web/hooks', auth: bearer, body: expect.objectContaining({ config: expect.objectContaining({ url: GITHUB_URL }) }) },
      { method: 'DELETE', path: '/repos/acme/web/hooks/3', auth: bearer },
      { method: 'POST', path: '/orgs/acme-platform/hooks', auth: bearer, body: expect.anything() },
    ]);
    const again = await run({ dryRun: true, prune: true });
    expect(again.code).toBe(0);
    expect(again.out).toContain('dry run, nothing changed: would create 0, update 0, remove 0; 7 unchanged');
  });
});
