/**
 * A host API that answers a redirect never gets fluxgate's token or hook secret handed to another host: each host's
 * list GET, create POST and edit (PATCH, GitLab's PUT) answered 301, 302, 303, 307 or 308 with a Location on
 * another origin (a listener on 127.0.0.2) → that listener receives nothing, the scope fails naming the Location
 * (without its userinfo, query or fragment) and the run exits 1. A `Link` next page on another origin is not
 * followed either.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'bun:test';
import type { FakeApi } from '../support/git-hosts/fake-api.ts';
import { json } from '../support/git-hosts/fake-api.ts';
import { startFakeGitea } from '../support/git-hosts/fake-gitea.ts';
import { startFakeGitHub } from '../support/git-hosts/fake-github.ts';
import { startFakeGitLab } from '../support/git-hosts/fake-gitlab.ts';
import { startElsewhere, type Elsewhere } from '../support/elsewhere.ts';
import { harness, PUBLIC_URL, SECRETS, type Run } from './harness.ts';

const h = harness();
afterAll(() => h.remove());

interface Host {
  api: FakeApi;
  /** The provider block registering one scope on this host's API. */
  config: string;
  /** Seeds a hook of fluxgate's whose events differ, so the run edits it. */
  seedEdit(): void;
  /** The edit's method. */
  edit: 'PATCH' | 'PUT';
}

const HOSTS: Record<'github' | 'gitlab' | 'gitea', () => Host> = {
  github() {
    const api = startFakeGitHub({ tokens: { [SECRETS.GH_TOKEN]: { scopes: 'admin:repo_hook' } } });
    return {
      api,
      config: `  - name: github\n    type: github\n    secret: { env: GH_SECRET }\n    register: { token: { env: GH_TOKEN }, apiUrl: "${api.origin}", repositories: [acme/app] }\n`,
      seedEdit: () => api.seed('repos/acme/app', [{ active: true, events: ['release'], config: { url: `${PUBLIC_URL}/hook/github`, content_type: 'json', insecure_ssl: '0', secret: '********' } }]),
      edit: 'PATCH',
    };
  },
  gitlab() {
    const api = startFakeGitLab({ tokens: { [SECRETS.GL_TOKEN]: {} } });
    return {
      api,
      config: `  - name: gitlab\n    type: gitlab\n    secret: { env: GL_SECRET }\n    register: { token: { env: GL_TOKEN }, apiUrl: "${api.origin}", projects: [acme/app] }\n`,
      seedEdit: () => api.seed('projects/acme/app', [{ url: `${PUBLIC_URL}/hook/gitlab`, flags: { issues_events: true }, enable_ssl_verification: true }]),
      edit: 'PUT',
    };
  },
  gitea() {
    const api = startFakeGitea({ tokens: { [SECRETS.GITEA_TOKEN]: {} } });
    return {
      api,
      config: `  - name: gitea\n    type: gitea\n    secret: { env: GITEA_SECRET }\n    register: { token: { env: GITEA_TOKEN }, apiUrl: "${api.origin}", repositories: [acme/app] }\n`,
      seedEdit: () => api.seed('repos/acme/app', [{ type: 'gitea', active: true, events: ['release'], branch_filter: '', config: { url: `${PUBLIC_URL}/hook/gitea`, content_type: 'json' } }]),
      edit: 'PATCH',
    };
  },
};

let elsewhere: Elsewhere;
const started: Host[] = [];
beforeEach(() => {
  elsewhere = startElsewhere();
});
afterEach(async () => {
  await elsewhere.stop();
  await Promise.all(started.splice(0).map((host) => host.api.stop()));
});

function start(kind: keyof typeof HOSTS): { host: Host; run: (flags?: { rotateSecret?: boolean }) => Promise<Run> } {
  const host = HOSTS[kind]();
  started.push(host);
  return { host, run: h.config(`server: { publicUrl: ${PUBLIC_URL} }\nproviders:\n${host.config}`) };
}

/** Nothing that was configured as secret, and nothing of the Location but what may be shown. */
function expectNothingLeaked(run: Run): void {
  for (const value of [...Object.values(SECRETS), 'hunter2', 'leak-7f3a', '#frag']) {
    expect(run.out).not.toContain(value);
    expect(run.err).not.toContain(value);
  }
}

const STATUSES = [301, 302, 303, 307, 308] as const;
const cases = (['github', 'gitlab', 'gitea'] as const).flatMap((kind) => (['list', 'create', 'edit'] as const).flatMap((step) => STATUSES.map((status) => [kind, step, status] as const)));

describe('fluxgate register follows no redirect', () => {
  test.each(cases)('%s: the %s request answered %d', async (kind, step, status) => {
    const { host, run } = start(kind);
    if (step === 'edit') host.seedEdit();
    const method = step === 'list' ? 'GET' : step === 'create' ? 'POST' : host.edit;
    host.api.intercept((request) => (request.method === method ? elsewhere.redirect(status) : undefined));

    const result = await run();

    expect(elsewhere.received).toEqual([]);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`answered ${status}, a redirect to ${elsewhere.shown}: not followed`);
    expect(result.out).toContain('fluxgate sends the token and hook secrets only to register.apiUrl and follows no redirect');
    expect(result.out).toContain('failed');
    // The redirected request was the last one: nothing was sent again anywhere.
    expect(host.api.requests.map((request) => request.method)).toEqual(step === 'list' ? ['GET'] : ['GET', method]);
    expectNothingLeaked(result);
  });
});

describe('a next page on another origin', () => {
  test.each(['github', 'gitea'] as const)('%s: the Link is refused and the token is not sent there', async (kind) => {
    const { host, run } = start(kind);
    host.api.intercept((request) => (request.method === 'GET' ? json([], 200, { Link: `<${elsewhere.origin}/collect/hooks?page=2>; rel="next"` }) : undefined));
    const result = await run();
    expect(elsewhere.received).toEqual([]);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`GET /${kind === 'gitea' ? 'api/v1/' : ''}repos/acme/app/hooks: the next page is on another host; not followed (${elsewhere.origin}/collect/hooks) (fluxgate sends the token and hook secrets only to register.apiUrl)`);
    expect(host.api.requests.map((request) => request.method)).toEqual(['GET']);
    expectNothingLeaked(result);
  });

  test('gitlab: gitbeaker takes only the query of a Link, so the next page is asked of the configured API', async () => {
    const { host, run } = start('gitlab');
    let first = true;
    host.api.intercept((request) => {
      if (request.method !== 'GET' || !first) return undefined;
      first = false;
      return json([], 200, { Link: `<${elsewhere.origin}/api/v4/projects/acme%2Fapp/hooks?page=2&per_page=100>; rel="next"` });
    });
    const result = await run();
    expect(elsewhere.received).toEqual([]);
    expect(result.code).toBe(0);
    expect(host.api.requests.map((request) => `${request.method} ${request.path}`).slice(0, 2)).toEqual([
      'GET /api/v4/projects/acme%2Fapp/hooks?per_page=100',
      'GET /api/v4/projects/acme%2Fapp/hooks?page=2&per_page=100',
    ]);
  });
});
