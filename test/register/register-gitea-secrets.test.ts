/**
 * Gitea/Forgejo through its REST API, and secrets everywhere: `--rotate-secret` on each host (GitHub's config
 * endpoint, GitLab's token and signing token, Gitea's delete-and-create), a signing token a GitLab does not keep,
 * pruning, and a secret never printed.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { startFakeGitea, type FakeGitea } from '../support/git-hosts/fake-gitea.ts';
import { startFakeGitHub, type FakeGitHub } from '../support/git-hosts/fake-github.ts';
import { startFakeGitLab, type FakeGitLab } from '../support/git-hosts/fake-gitlab.ts';
import { harness, PUBLIC_URL, SECRETS, type Run } from './harness.ts';

const h = harness();
afterAll(() => h.remove());

let gitea: FakeGitea;
const auth = `token ${SECRETS.GITEA_TOKEN}`;
const GITEA_URL = `${PUBLIC_URL}/hook/gitea`;
beforeEach(() => {
  gitea = startFakeGitea({ tokens: { [SECRETS.GITEA_TOKEN]: { admin: ['repos/acme/app', 'repos/acme/api', 'orgs/acme'] } } });
});
afterEach(async () => {
  await gitea.stop();
});

const giteaConfig = (events = '', apiPath = '') => `server: { publicUrl: "${PUBLIC_URL}/" }
providers:
  - name: gitea
    type: gitea
    secret: { env: GITEA_SECRET }
${events ? `    events: ${events}\n` : ''}    register: { token: { env: GITEA_TOKEN }, apiUrl: "${gitea.origin}${apiPath}", repositories: [acme/app, acme/api], organization: acme }
`;

function expectNoSecrets(run: Run): void {
  for (const value of Object.values(SECRETS)) {
    expect(run.out).not.toContain(value);
    expect(run.err).not.toContain(value);
  }
}

describe('fluxgate register on Gitea', () => {
  test('creates repository and organization hooks, and a second run only lists them', async () => {
    const run = h.config(giteaConfig());
    const first = await run();
    expect(first.code).toBe(0);
    const hook = { type: 'gitea', active: true, events: ['push'], config: { url: GITEA_URL, content_type: 'json', secret: SECRETS.GITEA_SECRET } };
    expect(gitea.requests).toEqual(['repos/acme/app', 'repos/acme/api', 'orgs/acme'].flatMap((scope) => [
      { method: 'GET', path: `/api/v1/${scope}/hooks?limit=50`, auth },
      { method: 'POST', path: `/api/v1/${scope}/hooks`, auth, body: hook },
    ]));
    expect(gitea.hooks('orgs/acme')).toMatchObject([{ secret: SECRETS.GITEA_SECRET, config: { url: GITEA_URL, content_type: 'json' } }]);
    gitea.requests.length = 0;
    // The same API given as …/api/v1 is the same API.
    const second = await h.config(giteaConfig('', '/api/v1'))();
    expect(second.code).toBe(0);
    expect(gitea.requests.map((request) => request.method)).toEqual(['GET', 'GET', 'GET']);
    expectNoSecrets(first);
  });

  test('an event change sends the whole event list and the branch filter back (Gitea rewrites both on every edit)', async () => {
    gitea.seed('repos/acme/app', [{ type: 'gitea', active: true, events: ['push'], branch_filter: 'main', config: { url: GITEA_URL, content_type: 'json' }, secret: 'old' }]);
    const run = await h.config(giteaConfig('[push, create, delete]'))();
    expect(run.code).toBe(0);
    expect(gitea.requests.filter((request) => request.method === 'PATCH')).toEqual([{ method: 'PATCH', path: '/api/v1/repos/acme/app/hooks/1', auth, body: { events: ['create', 'delete', 'push'], branch_filter: 'main' } }]);
    expect(gitea.hooks('repos/acme/app')).toMatchObject([{ id: 1, events: ['create', 'delete', 'push'], branch_filter: 'main', secret: 'old' }]);
  });

  test('--rotate-secret deletes and re-creates the hook (the edit API cannot set a secret), and says so', async () => {
    gitea.seed('repos/acme/app', [{ type: 'gitea', active: true, events: ['push'], branch_filter: '', config: { url: GITEA_URL, content_type: 'json' }, secret: 'old' }]);
    const run = await h.config(giteaConfig())({ rotateSecret: true });
    expect(run.code).toBe(0);
    expect(gitea.requests.filter((request) => request.path.startsWith('/api/v1/repos/acme/app') && request.method !== 'GET').map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /api/v1/repos/acme/app/hooks/1',
      'POST /api/v1/repos/acme/app/hooks',
    ]);
    expect(gitea.hooks('repos/acme/app')).toMatchObject([{ secret: SECRETS.GITEA_SECRET }]);
    expect(run.out).toContain("Gitea cannot change a hook's secret: hook 1 was deleted and created again as 2");
    expectNoSecrets(run);
  });

  test('a token without rights names the scope to add', async () => {
    const run = await h.config(giteaConfig().replace('acme/api]', 'acme/api, acme/private]'))();
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      'Gitea answered 403 (token does not have at least one of required scope(s): [write:repository]) for repository acme/private: hooks need a token with the write:repository scope, from a user with admin rights on acme/private',
    );
    expect(gitea.hooks('orgs/acme')).toHaveLength(1);
  });
});

describe('secrets', () => {
  let github: FakeGitHub;
  let gitlab: FakeGitLab;
  beforeEach(() => {
    github = startFakeGitHub({ tokens: { [SECRETS.GH_TOKEN]: { scopes: 'admin:repo_hook' } } });
    gitlab = startFakeGitLab({ tokens: { [SECRETS.GL_TOKEN]: {} }, signingTokens: true });
  });
  afterEach(async () => {
    await github.stop();
    await gitlab.stop();
  });
  const SIGNING = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const config = () => `server: { publicUrl: ${PUBLIC_URL} }
providers:
  - name: github
    type: github
    secret: { env: GH_SECRET }
    register: { token: { env: GH_TOKEN }, apiUrl: ${github.origin}, repositories: [acme/app] }
  - name: gitlab
    type: gitlab
    secret: { env: GL_SECRET }
    signingSecret: { env: GL_SIGNING }
    register: { token: { env: GL_TOKEN }, apiUrl: ${gitlab.origin}/api/v4, projects: [acme/app] }
`;

  test('--rotate-secret sends only the secret: GitHub through the config endpoint, GitLab its token and signing token', async () => {
    github.seed('repos/acme/app', [{ active: true, events: ['push'], config: { url: `${PUBLIC_URL}/hook/github`, content_type: 'json', insecure_ssl: '0', secret: 'old' } }]);
    gitlab.seed('projects/acme/app', [{ url: `${PUBLIC_URL}/hook/gitlab`, flags: { push_events: true, tag_push_events: true }, enable_ssl_verification: true, token: 'old', signing_token: 'whsec_old' }]);
    const run = await h.config(config())({ rotateSecret: true }, { GL_SIGNING: SIGNING });
    expect(run.code).toBe(0);
    expect(github.requests.filter((request) => request.method !== 'GET')).toEqual([{ method: 'PATCH', path: '/repos/acme/app/hooks/1/config', auth: `Bearer ${SECRETS.GH_TOKEN}`, body: { secret: SECRETS.GH_SECRET } }]);
    expect(gitlab.requests.filter((request) => request.method !== 'GET')).toEqual([
      { method: 'PUT', path: '/api/v4/projects/acme%2Fapp/hooks/1', auth: SECRETS.GL_TOKEN, body: { url: `${PUBLIC_URL}/hook/gitlab`, token: SECRETS.GL_SECRET, signing_token: SIGNING } },
    ]);
    expect(github.hooks('repos/acme/app')[0]!.config.secret).toBe(SECRETS.GH_SECRET);
    expect(run.out).toContain('secret: set → the configured secret (rotated)');
    expectNoSecrets(run);
    expect(run.out).not.toContain(SIGNING);
  });

  test('without --rotate-secret a hook keeps its secret; one GitLab reports unset gets it', async () => {
    github.seed('repos/acme/app', [{ active: true, events: ['push'], config: { url: `${PUBLIC_URL}/hook/github`, content_type: 'json', insecure_ssl: '0', secret: 'old' } }]);
    gitlab.seed('projects/acme/app', [{ url: `${PUBLIC_URL}/hook/gitlab`, flags: { push_events: true, tag_push_events: true }, enable_ssl_verification: true, token: 'old' }]);
    const run = await h.config(config())({}, { GL_SIGNING: SIGNING });
    expect(run.code).toBe(0);
    expect(github.requests.filter((request) => request.method !== 'GET')).toEqual([]);
    expect(gitlab.requests.filter((request) => request.method !== 'GET')).toEqual([
      { method: 'PUT', path: '/api/v4/projects/acme%2Fapp/hooks/1', auth: SECRETS.GL_TOKEN, body: { url: `${PUBLIC_URL}/hook/gitlab`, signing_token: SIGNING } },
    ]);
    expect(github.hooks('repos/acme/app')[0]!.config.secret).toBe('old');
    expect(gitlab.hooks('projects/acme/app')[0]!.token).toBe('old');
  });

  test('a GitLab that does not keep the signing token: the hook is created with its token and the user is told', async () => {
    await gitlab.stop();
    gitlab = startFakeGitLab({ tokens: { [SECRETS.GL_TOKEN]: {} }, signingTokens: false });
    const run = await h.config(config())({}, { GL_SIGNING: SIGNING });
    expect(run.code).toBe(0);
    expect(gitlab.requests.find((request) => request.method === 'POST')!.body).toMatchObject({ token: SECRETS.GL_SECRET, signing_token: SIGNING });
    expect(run.out).toContain('GitLab did not confirm the signing token');
    // Nothing to compare on such a GitLab: the next run leaves the hook alone.
    gitlab.requests.length = 0;
    const again = await h.config(config())({}, { GL_SIGNING: SIGNING });
    expect(gitlab.requests.map((request) => request.method)).toEqual(['GET']);
    expect(again.code).toBe(0);
  });

  test('a placeholder secret or token is refused before anything is sent', async () => {
    const run = await h.config(config())({}, { GH_SECRET: 'change-me', GL_SIGNING: SIGNING, GL_TOKEN: 'token' });
    expect(run.code).toBe(1);
    expect(run.err).toContain('providers[0].secret: environment variable GH_SECRET holds a placeholder, not a secret, and register would send it to GitHub: set GH_SECRET to the real secret');
    expect(run.err).toContain('providers[1].register.token: environment variable GL_TOKEN holds a placeholder, not a token');
    expect(github.requests).toEqual([]);
    expect(gitlab.requests).toEqual([]);
  });
});
