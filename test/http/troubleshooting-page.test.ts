/**
 * docs/troubleshooting.md lists every answer a delivery can get and why a target or a discovered object was left
 * out. Real deliveries over HTTP (published example payloads, real signatures, a gateway in dry-run) that fluxgate
 * ignores or refuses, each for another reason, and the near misses discovery gives for objects of every kind of
 * ref: each reason must match a row of the page's tables (the code spans of a row's first cell, `<…>` standing for
 * any text, `…` for any or none). A reason the code gives that the page does not list — a new one, or one reworded —
 * fails here.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventKeys } from '../../src/discovery/discovered-object.ts';
import { createDiscoveryIndex } from '../../src/discovery/discovery-index.ts';
import { matchDiscovered } from '../../src/discovery/match-discovered.ts';
import { describeEvent } from '../../src/discovery/reasons.ts';
import type { WatchedObject } from '../../src/kube/informer.ts';
import type { Event } from '../../src/provider-kit/contract.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { githubPushWith, githubWebhook, gitlabWebhook, post, type OutgoingWebhook } from '../support/webhooks.ts';

const page = readFileSync(join(import.meta.dir, '..', '..', 'docs', 'troubleshooting.md'), 'utf8');

/** The code spans of the first cell of every table row, as anchored patterns. */
const documented: { text: string; pattern: RegExp }[] = page
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('|---'))
  // A cell ends at an unescaped ` | `; `\|` inside a code span is a `|` of the reason.
  .flatMap((line) => [...line.slice(2).split(/(?<!\\) \| /)[0]!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/\\\|/g, '|')))
  .map((text) => ({
    text,
    pattern: new RegExp(
      `^${text
        .split(/(<[^>]+>|…)/)
        .map((part) => (part === '…' ? '.*' : /^<[^>]+>$/.test(part) ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('')}$`,
      's',
    ),
  }));

/** The reasons no row of the page accounts for. */
const undocumented = (reasons: string[]) => reasons.filter((reason) => !documented.some(({ pattern }) => pattern.test(reason)));

const SECRET = 'troubleshooting-secret-4b1e';
const TOKEN = 'troubleshooting-gitlab-token';
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({
    config: `server: { address: 127.0.0.1:0, maxBodySize: 64KiB }
kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: HOOK_SECRET } }
  - { name: gitlab, type: gitlab, secret: { env: GITLAB_TOKEN } }
  - { name: office, type: github, secret: { env: HOOK_SECRET }, allowedSources: [192.0.2.0/24] }
targets:
  - name: app
    providers: [github]
    match: { repository: your-org/your-repo, branches: [main], paths: ["apps/**"] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
  - name: other
    providers: [github]
    match: { repository: your-org/other }
    resources: [{ kind: GitRepository, name: other, namespace: flux-system }]
`,
    env: { HOOK_SECRET: SECRET, GITLAB_TOKEN: TOKEN },
  });
});
afterAll(() => gateway.stop());

async function answer(path: string, hook: OutgoingWebhook): Promise<{ status: number; reason: string }> {
  const response = await post(`${gateway.url}${path}`, hook);
  const body = (await response.json()) as { ignored?: string; error?: string };
  return { status: response.status, reason: body.ignored ?? body.error ?? '' };
}

const changing = (files: string[], deliveryId?: string) =>
  githubPushWith(
    SECRET,
    (payload) => {
      payload.ref = 'refs/heads/main';
      payload.repository.full_name = 'your-org/your-repo';
      payload.repository.html_url = 'https://github.com/your-org/your-repo';
      payload.repository.clone_url = 'https://github.com/your-org/your-repo.git';
      payload.commits[0].added = files;
    },
    deliveryId,
  );

describe('every reason a delivery is answered with is on the page', () => {
  test('200 ignored: ping, an event not listened to, targets that do not match, a provider without targets, a duplicate', async () => {
    const issues = githubWebhook(SECRET);
    const accepted = changing(['apps/web/deploy.yaml'], 'twice');
    expect(await answer('/hook/github', accepted)).toEqual({ status: 202, reason: '' });
    const answers = [
      await answer('/hook/github', githubWebhook(SECRET, { event: 'ping' })),
      await answer('/hook/github', { ...issues, headers: { ...issues.headers, 'x-github-event': 'issues' } }),
      await answer('/hook/github', githubWebhook(SECRET, { branch: 'dev' })),
      await answer('/hook/github', githubWebhook(SECRET, { tag: 'v1.0.0' })),
      await answer('/hook/github', changing(['docs/readme.md'])),
      await answer('/hook/github', githubWebhook(SECRET, { repository: 'your-org/unknown' })),
      await answer('/hook/gitlab', gitlabWebhook(TOKEN)),
      await answer('/hook/github', accepted),
    ];
    expect(answers.map(({ status }) => status)).toEqual(Array(answers.length).fill(200));
    const reasons = answers.map(({ reason }) => reason);
    expect(reasons).toContain('duplicate delivery');
    expect(undocumented(reasons)).toEqual([]);
    // What each target said, inside "no target matched (…)".
    const perTarget = reasons.flatMap((reason) => /^no target matched \((.*)\)$/.exec(reason)?.[1]!.split('; ').filter((part) => !/^\d+ targets? watch/.test(part)).map((part) => part.replace(/^[\w-]+: /, '')) ?? []);
    expect(perTarget).toEqual(['branch dev does not match [main]', 'tag v1.0.0 ignored: watching branches [main]', 'no changed path matches [apps/**]']);
    expect(undocumented(perTarget)).toEqual([]);
  });

  test('4xx: a wrong secret, no signature, an address not allowed, a body that is not JSON, too large, unknown path, wrong method', async () => {
    const signed = githubWebhook(SECRET);
    const { 'x-hub-signature-256': _, 'x-hub-signature': __, ...unsigned } = signed.headers;
    const notJson = githubPushWith(SECRET, () => {});
    const answers = [
      await answer('/hook/github', githubWebhook('not-the-secret')),
      await answer('/hook/github', { body: signed.body, headers: unsigned }),
      await answer('/hook/gitlab', gitlabWebhook('not-the-token')),
      await answer('/hook/office', githubWebhook(SECRET)),
      await answer('/hook/github', { ...notJson, body: new TextEncoder().encode('{"ref": ') }),
      await answer('/hook/github', { ...signed, body: new Uint8Array(100_000) }),
    ];
    expect(answers.map(({ status }) => status)).toEqual([401, 401, 401, 401, 401, 413]);
    expect(undocumented(answers.map(({ reason }) => reason))).toEqual([]);
    // A body that is not JSON, signed: 400.
    const garbled = new TextEncoder().encode('{"ref": ');
    const hmac = new Bun.CryptoHasher('sha256', SECRET).update(garbled).digest('hex');
    const malformed = await answer('/hook/github', { body: garbled, headers: { ...unsigned, 'x-hub-signature-256': `sha256=${hmac}` } });
    expect(malformed.status).toBe(400);
    expect(undocumented([malformed.reason])).toEqual([]);
    // 404 and 405 carry no reason of their own: their rows name the status.
    expect((await fetch(`${gateway.url}/hook/nope`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${gateway.url}/hook/github`)).status).toBe(405);
    expect(documented.map(({ text }) => text)).toEqual(expect.arrayContaining(['404', '405']));
  });
});

describe('every near miss of discovery is on the page', () => {
  const gitRepository = (name: string, ref: Record<string, string> | undefined, extra: { suspend?: boolean; annotations?: Record<string, string> } = {}): WatchedObject => ({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name, namespace: 'flux-system', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { url: 'https://github.com/org/app', ...(ref ? { ref } : {}), ...(extra.suspend ? { suspend: true } : {}) },
  });
  const application = (name: string, targetRevision: string, annotations?: Record<string, string>): WatchedObject => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd', ...(annotations ? { annotations } : {}) },
    spec: { source: { repoURL: 'https://github.com/org/app.git', targetRevision, path: 'apps/web' } },
  });
  const objects = [
    gitRepository('dev', { branch: 'dev' }),
    gitRepository('tagged', { tag: 'v1.0.0' }),
    gitRepository('range', { semver: '>=1.0.0' }),
    gitRepository('full-ref', { name: 'refs/heads/release' }),
    gitRepository('default', undefined),
    gitRepository('pinned', { branch: 'main', commit: '0123456789abcdef0123456789abcdef01234567' }),
    gitRepository('suspended', { branch: 'main' }, { suspend: true }),
    gitRepository('opted-out', { branch: 'main' }, { annotations: { 'fluxgate.io/ignore': 'true' } }),
    gitRepository('paths', { branch: 'main' }, { annotations: { 'fluxgate.io/paths': 'charts/**' } }),
    gitRepository('huge-range', { semver: Array.from({ length: 40 }, (_, i) => `1.0.${i}`).join(' || ') }),
    application('release', 'release'),
    application('head', 'HEAD'),
    application('generate-paths', 'main', { 'argocd.argoproj.io/manifest-generate-paths': '.' }),
  ];
  const push: Event = { event: 'push', repositories: ['https://github.com/org/app'], ref: 'refs/heads/main', branch: 'main', defaultBranch: 'trunk', changedPaths: ['docs/readme.md'] };

  test('a branch push: each object that does not follow it says why, in words the page lists', () => {
    const index = createDiscoveryIndex();
    index.replace(objects);
    const keys = eventKeys(push);
    const { hits, misses } = matchDiscovered(push, keys, index.candidates(keys));
    expect(hits).toEqual([]);
    const whys = misses.map((miss) => miss.why);
    expect(whys).toHaveLength(objects.length);
    expect(undocumented(whys)).toEqual([]);
    // And the answer discovery gives, with and without objects of the repository, and for a deleted ref.
    const answers = [
      describeEvent([push], push, misses.length, misses.map((miss) => `${miss.object.label}: ${miss.why}`), ['Application']),
      describeEvent([push], push, 0, [], []),
      describeEvent([{ ...push, deleted: true }], { ...push, deleted: true }, 0, [], []),
    ];
    expect(undocumented(answers)).toEqual([]);
  });

  test('a tag push: semver ranges and refs say why', () => {
    const tagPush: Event = { event: 'push', repositories: ['https://github.com/org/app'], ref: 'refs/tags/v0.9.0', tag: 'v0.9.0' };
    const index = createDiscoveryIndex();
    index.replace(objects);
    const keys = eventKeys(tagPush);
    const whys = matchDiscovered(tagPush, keys, index.candidates(keys)).misses.map((miss) => miss.why);
    expect(whys).toContain('tag v0.9.0 is not in semver >=1.0.0');
    expect(undocumented(whys)).toEqual([]);
  });
});
