/**
 * The caps on lists a payload can make long (`payloadLimits` in the plugin host), at and beyond each cap, in every
 * built-in plugin and over HTTP. Beyond the repository cap: 400 naming it. Beyond the commit or changed-path
 * cap: the changed paths are unknown, so path filters pass.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import genericFactory from '../../plugins/generic/codec.ts';
import githubFactory from '../../plugins/github/codec.ts';
import gitlabFactory from '../../plugins/gitlab/codec.ts';
import { PayloadError } from '../../src/provider-kit/contract.ts';
import { changedPaths } from '../../src/provider-kit/git.ts';
import { payloadLimits, repositoryNames as collector } from '../../src/provider-kit/payload.ts';
import { drive, type DrivenCodec } from '../support/codec-adapter.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { deliveryBody, post } from '../support/webhooks.ts';

const { repositories: MAX_REPOSITORIES, commits: MAX_COMMITS, changedPaths: MAX_PATHS } = payloadLimits;
const generic = drive(genericFactory);
const github = drive(githubFactory);
const gitlab = drive(gitlabFactory);

function parse(plugin: DrivenCodec, payload: unknown, event: string) {
  const request = { body: new TextEncoder().encode(JSON.stringify(payload)), headers: new Headers() };
  return plugin.parse(request, { event });
}

function parseError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadError);
    return (error as Error).message;
  }
  throw new Error('expected a PayloadError');
}

const paths = (count: number, prefix = 'docs') => Array.from({ length: count }, (_, index) => `${prefix}/page-${index}.md`);
const repositoryNames = (count: number) => Array.from({ length: count }, (_, index) => `org/repo-${index}`);
const githubPush = (): Record<string, any> => JSON.parse(new TextDecoder().decode(deliveryBody('github/push-new-branch.json')));
const gitlabPush = (): Record<string, any> => JSON.parse(new TextDecoder().decode(deliveryBody('gitlab/push-hook.json')));

describe('repository lists', () => {
  test(`generic: ${MAX_REPOSITORIES} distinct names pass, one more is refused naming the limit`, () => {
    expect(parse(generic, { repository: repositoryNames(MAX_REPOSITORIES) }, 'push').repositories).toHaveLength(MAX_REPOSITORIES);
    const message = parseError(() => parse(generic, { repository: repositoryNames(MAX_REPOSITORIES + 1) }, 'push'));
    expect(message).toBe(`repository names more than ${MAX_REPOSITORIES} repositories (the limit)`);
  });

  test('generic: repeats count once, however many (60,000 copies of one name)', () => {
    expect(parse(generic, { repository: Array.from({ length: 60_000 }, () => 'org/repo') }, 'push').repositories).toEqual(['org/repo']);
  });

  test('the kit collector refuses to grow a list past the limit, whoever fills it', () => {
    const names = collector('project');
    names.add(...repositoryNames(MAX_REPOSITORIES));
    names.add(repositoryNames(1)[0]!); // a repeat costs nothing
    expect(names.list()).toHaveLength(MAX_REPOSITORIES);
    expect(parseError(() => names.add('org/one-more'))).toContain(`more than ${MAX_REPOSITORIES}`);
  });
});

describe('changed paths', () => {
  test(`generic paths: ${MAX_PATHS} distinct paths are reported, one more makes them unknown`, () => {
    expect(parse(generic, { repository: 'org/repo', paths: paths(MAX_PATHS) }, 'push').changedPaths).toHaveLength(MAX_PATHS);
    expect(parse(generic, { repository: 'org/repo', paths: paths(MAX_PATHS + 1) }, 'push').changedPaths).toBeUndefined();
    // Repeats count once.
    expect(parse(generic, { repository: 'org/repo', paths: [...paths(MAX_PATHS), ...paths(MAX_PATHS)] }, 'push').changedPaths).toHaveLength(MAX_PATHS);
  });

  test('github: over the path limit across the listed commits, the paths are unknown', () => {
    const payload = githubPush();
    const template = payload.commits[0];
    payload.commits = [{ ...template, added: paths(MAX_PATHS - 1, 'a') }, { ...template, added: [], modified: ['b/one.md'] }];
    expect(parse(github, payload, 'push').changedPaths).toHaveLength(MAX_PATHS);
    payload.commits[1].modified.push('b/two.md');
    expect(parse(github, payload, 'push').changedPaths).toBeUndefined();
  });

  test('github: the same limit applies to head_commit when there is no commit list', () => {
    const payload = githubPush();
    payload.commits = [];
    payload.head_commit.added = paths(MAX_PATHS);
    expect(parse(github, payload, 'push').changedPaths).toHaveLength(MAX_PATHS);
    payload.head_commit.added = paths(MAX_PATHS + 1);
    expect(parse(github, payload, 'push').changedPaths).toBeUndefined();
  });

  test('gitlab: over the path limit, the paths are unknown', () => {
    const payload = gitlabPush();
    payload.commits = [{ ...payload.commits[0], added: paths(MAX_PATHS), modified: [] }];
    payload.total_commits_count = 1;
    expect(parse(gitlab, payload, 'Push Hook').changedPaths).toHaveLength(MAX_PATHS);
    payload.commits[0].modified = ['one/more.md'];
    expect(parse(gitlab, payload, 'Push Hook').changedPaths).toBeUndefined();
  });
});

describe('commit lists', () => {
  const commits = (count: number) => Array.from({ length: count }, (_, index) => ({ id: String(index), added: [`f-${index}`], modified: [], removed: [] }));

  test(`host: ${MAX_COMMITS} commits are read, one more makes the paths unknown`, () => {
    expect(changedPathsOf(commits(MAX_COMMITS), 'commits')).toHaveLength(MAX_COMMITS);
    expect(changedPathsOf(commits(MAX_COMMITS + 1), 'commits')).toBeUndefined();
    // Not read at all: a malformed entry beyond the cap is not even looked at.
    expect(changedPathsOf([...commits(MAX_COMMITS), 'not a commit'], 'commits')).toBeUndefined();
  });

  test('gitlab: a commit list as long as total_commits_count but over the limit gives unknown paths', () => {
    const payload = gitlabPush();
    payload.commits = commits(MAX_COMMITS);
    payload.total_commits_count = MAX_COMMITS;
    expect(parse(gitlab, payload, 'Push Hook').changedPaths).toHaveLength(MAX_COMMITS);
    payload.commits = commits(60_000);
    payload.total_commits_count = 60_000;
    expect(parse(gitlab, payload, 'Push Hook').changedPaths).toBeUndefined();
  });
});

describe('over HTTP, on an unsigned generic route', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers:
  - { name: ci, type: generic, allowUnsigned: true }
targets:
  - name: app
    providers: [ci]
    match: { repository: your-org/your-repo, paths: ["apps/**"] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
    });
  });
  afterAll(() => gateway.stop());

  const send = (payload: unknown) =>
    post(gateway.hook('ci'), { body: new TextEncoder().encode(JSON.stringify(payload)), headers: { 'content-type': 'application/json', 'x-delivery': crypto.randomUUID() } });

  test('a 60,000-entry repository list is answered 400 naming the limit', async () => {
    const response = await send({ repository: ['your-org/your-repo', ...repositoryNames(60_000)], ref: 'refs/heads/main' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: `repository names more than ${MAX_REPOSITORIES} repositories (the limit)` });
  });

  test(`${MAX_PATHS} changed paths outside apps/ are filtered out; one more is unknown and passes the filter`, async () => {
    const atLimit = await send({ repository: 'your-org/your-repo', ref: 'refs/heads/main', paths: paths(MAX_PATHS) });
    expect(atLimit.status).toBe(200);
    expect(await atLimit.json()).toEqual({ ignored: 'no target matched (app: no changed path matches [apps/**])' });
    const beyond = await send({ repository: 'your-org/your-repo', ref: 'refs/heads/main', paths: paths(60_000) });
    expect(beyond.status).toBe(202);
  });
});

/** The kit's commit-list reader with no truncation signal from the host. */
function changedPathsOf(commits: unknown[], label: string) {
  return changedPaths(commits, { label, complete: true });
}
