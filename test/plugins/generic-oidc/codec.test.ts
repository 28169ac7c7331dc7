/**
 * `generic-oidc`: CI jobs' ID tokens (GitHub Actions, GitHub Enterprise Server, GitLab CI), verified against a
 * local issuer (real discovery, JWKS and RS256 signatures) and parsed from the published claim sets in
 * `test/plugins/generic-oidc/fixtures/claims/`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import genericOidc from '../../../plugins/generic-oidc/codec.ts';
import { ConfigProblem, type Event, type Ignored, type Parsed, type VerifiedInfo, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { startOidcIssuer, type OidcIssuer } from '../../support/oidc-issuer.ts';
import { codecOf, fixture, keyOf, payloadErrorOf } from '../../support/provider-fixtures.ts';

type Claims = Record<string, unknown>;
const claimsOf = (name: string): Claims => JSON.parse(fixture('generic-oidc', `claims/${name}`).text);
const GITHUB = claimsOf('github-actions');
const GHES = claimsOf('github-actions-ghes');
const GITLAB = claimsOf('gitlab-ci');
/** Inside the GitHub example token's own nbf..exp, so no test depends on today's date. */
const NOW = new Date((GITHUB.iat as number) * 1000);
const GITLAB_NOW = new Date((GITLAB.iat as number) * 1000);

const codec = codecOf<unknown>(genericOidc);
let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.stop());

const githubOptions = () => ({ issuers: [issuer.issuer], audience: GITHUB.aud, claims: { repository: 'octo-org/*', ref: 'refs/heads/main' } });
const key = (options: Record<string, unknown> = {}) => keyOf(codec, {}, { ...githubOptions(), ...options });
/**
 * A request carrying a token with `claims` signed by the local issuer. The published claim sets name their own
 * issuer; `iss` is replaced by the local issuer's URL (the smallest edit that lets a local key sign them).
 */
async function request(claims: Claims, body = '', headers: Record<string, string> = {}): Promise<WebhookRequest> {
  const token = await issuer.token({ ...claims, iss: issuer.issuer });
  return { body: new TextEncoder().encode(body), headers: new Headers({ Authorization: `Bearer ${token}`, ...headers }) };
}
/** parse as the pipeline calls it: with what verify returned (claims verbatim from the fixtures). */
const parse = (claims: Claims | undefined, body = '', event = 'push'): Parsed | Ignored =>
  codec.parse({ body: new TextEncoder().encode(body), headers: new Headers() }, { event, ...(claims && { claims }) } as VerifiedInfo, key());
const payloadError = payloadErrorOf;

describe('generic-oidc verify: the job token, then every claim condition', () => {
  test('a GitHub Actions token of a matching repository and ref: accepted, jti is the delivery id', async () => {
    const verdict = await codec.verify(await request(GITHUB), key(), NOW);
    expect(verdict).toMatchObject({ ok: true, deliveryId: 'example-id', claims: { repository: 'octo-org/octo-repo', ref: 'refs/heads/main' } });
  });

  test('a GitLab CI token: conditions on GitLab claims, numbers compared as text', async () => {
    const options = { audience: GITLAB.aud, claims: { project_path: 'my-group/*', ref_type: 'branch', runner_id: '1' } };
    expect(await codec.verify(await request(GITLAB), key(options), GITLAB_NOW)).toMatchObject({ ok: true, deliveryId: GITLAB.jti });
    const protectedOnly = key({ ...options, claims: { project_path: 'my-group/*', ref_protected: 'true' } });
    expect(await codec.verify(await request(GITLAB), protectedOnly, GITLAB_NOW)).toEqual({ ok: false, reason: 'token claim ref_protected false does not match true' });
  });

  test.each<[string, () => Promise<WebhookRequest>, string]>([
    ['no Authorization header', async () => ({ body: new Uint8Array(), headers: new Headers() }), 'missing Authorization: Bearer token'],
    ['a repository of another organisation', () => request({ ...GITHUB, repository: 'evil-org/octo-repo' }), 'token claim repository evil-org/octo-repo does not match octo-org/*'],
    ['another branch', () => request({ ...GITHUB, ref: 'refs/heads/feature' }), 'token claim ref refs/heads/feature does not match refs/heads/main'],
    ['a value that is not plain is not echoed', () => request({ ...GITHUB, ref: 'refs/heads/<script>' }), 'token claim ref does not match refs/heads/main'],
    ['a required claim missing', () => request({ ...GITHUB, ref: undefined }), 'token has no ref claim'],
    ['a claim that is an object', () => request({ ...GITHUB, ref: { name: 'main' } }), 'token has no ref claim'],
    ['another audience (the job chooses it)', () => request({ ...GITHUB, aud: 'https://github.com/evil-org' }), 'token aud claim is not accepted'],
    [
      'an issuer not in issuers',
      async () => ({ body: new Uint8Array(), headers: new Headers({ Authorization: `Bearer ${await issuer.token(GITHUB)}` }) }),
      'token issuer https://token.actions.githubusercontent.com is not trusted',
    ],
  ])('%s is refused', async (_name, make, reason) => {
    expect(await codec.verify(await make(), key(), NOW)).toEqual({ ok: false, reason });
  });

  test('an expired token is refused', async () => {
    expect(await codec.verify(await request(GITHUB), key(), new Date(((GITHUB.exp as number) + 3600) * 1000))).toEqual({ ok: false, reason: 'token has expired' });
  });

  test('a token whose claims were altered is refused', async () => {
    const valid = await request(GITHUB);
    const [header, , signature] = valid.headers.get('authorization')!.slice(7).split('.');
    const claims = Buffer.from(JSON.stringify({ ...GITHUB, iss: issuer.issuer, repository: 'octo-org/other' })).toString('base64url');
    valid.headers.set('Authorization', `Bearer ${header}.${claims}.${signature}`);
    expect(await codec.verify(valid, key(), NOW)).toEqual({ ok: false, reason: 'token signature does not match' });
  });

  test('an issuer that cannot be reached is a retryable failure (503), not a 401', async () => {
    const delivery = await request(GITHUB);
    issuer.setDown(true);
    try {
      expect(await codec.verify(delivery, key(), NOW)).toMatchObject({ ok: false, retryable: true });
    } finally {
      issuer.setDown(false);
    }
  });

  test('the body is not covered by the token, and verify does not read it', async () => {
    const delivery = await request(GITHUB, '{"repository":"evil-org/app"}');
    expect(await codec.verify(delivery, key(), NOW)).toMatchObject({ ok: true });
    // …which is why parse never lets the body name another repository (below).
  });
});

describe('generic-oidc describe', () => {
  test.each<[Record<string, string>, { event: string; deliveryId?: string }]>([
    [{}, { event: 'push', deliveryId: undefined }],
    [{ 'X-Event': 'deploy', 'X-Delivery': 'd-1', 'X-Request-Id': 'r-1' }, { event: 'deploy', deliveryId: 'd-1' }],
    [{ 'X-Request-Id': 'r-1' }, { event: 'push', deliveryId: 'r-1' }],
  ])('%j', (headers, expected) => {
    expect(codec.describe(new Headers(headers))).toEqual(expected);
  });
});

describe('generic-oidc parse: the repository and ref the token names', () => {
  test.each<[string, Claims, Parsed]>([
    [
      'github-actions',
      GITHUB,
      { events: [{ event: 'push', repositories: ['octo-org/octo-repo', 'https://github.com/octo-org/octo-repo'], ref: 'refs/heads/main', branch: 'main', commit: 'example-sha' }] },
    ],
    [
      'github-actions-ghes (the web host comes from the issuer https://HOSTNAME/_services/token)',
      GHES,
      { events: [{ event: 'push', repositories: ['octo-org/octo-repo', 'https://hostname/octo-org/octo-repo'], ref: 'refs/heads/main', branch: 'main', commit: 'example-sha' }] },
    ],
    [
      'gitlab-ci (short ref with ref_path; the project URL from the instance issuer)',
      GITLAB,
      {
        events: [
          {
            event: 'push',
            repositories: ['my-group/my-project', 'https://gitlab.example.com/my-group/my-project'],
            ref: 'refs/heads/feature-branch-1',
            branch: 'feature-branch-1',
            commit: '714a629c0b401fdce83e847fc9589983fc6f46bc',
          },
        ],
      },
    ],
    [
      // Not published: a GitLab tag pipeline, from the branch example by the smallest edit (ref, ref_type, ref_path).
      'gitlab-ci for a tag',
      { ...GITLAB, ref: 'v1.2.0', ref_type: 'tag', ref_path: 'refs/tags/v1.2.0' },
      { events: [expect.objectContaining({ ref: 'refs/tags/v1.2.0', tag: 'v1.2.0' }) as unknown as Event] },
    ],
    [
      // Older GitLab versions sent no ref_path: ref + ref_type.
      'gitlab-ci without ref_path',
      { ...GITLAB, ref_path: undefined },
      { events: [expect.objectContaining({ ref: 'refs/heads/feature-branch-1', branch: 'feature-branch-1' }) as unknown as Event] },
    ],
    [
      // A GitHub Enterprise Cloud issuer with the enterprise's slug in its path is still github.com.
      'github-actions with an enterprise issuer',
      { ...GITHUB, iss: 'https://token.actions.githubusercontent.com/avocado-corp' },
      { events: [expect.objectContaining({ repositories: ['octo-org/octo-repo', 'https://github.com/octo-org/octo-repo'] }) as unknown as Event] },
    ],
  ])('%s', (_name, claims, expected) => {
    expect(parse(claims)).toEqual(expected);
  });

  test('the event name comes from describe', () => {
    expect(parse(GITHUB, '', 'deploy')).toMatchObject({ events: [{ event: 'deploy' }] });
  });

  test('a body adds changed paths and may give the commit the job made', () => {
    const body = JSON.stringify({ commit: '3f2a9c0', paths: ['apps/web/deploy.yaml', 'apps/web/deploy.yaml', 'apps/api/kustomization.yaml'] });
    expect(parse(GITHUB, body)).toEqual({ events: [
      {
        event: 'push',
        repositories: ['octo-org/octo-repo', 'https://github.com/octo-org/octo-repo'],
        ref: 'refs/heads/main',
        branch: 'main',
        commit: '3f2a9c0',
        changedPaths: ['apps/web/deploy.yaml', 'apps/api/kustomization.yaml'],
      },
    ] });
  });

  test('a body cannot point the token at another repository or ref: what the token names wins', () => {
    const body = JSON.stringify({ repository: 'evil-org/prod-infra', ref: 'refs/heads/prod', branch: 'prod' });
    expect(parse(GITHUB, body)).toMatchObject({ events: [{ repositories: ['octo-org/octo-repo', 'https://github.com/octo-org/octo-repo'], ref: 'refs/heads/main', branch: 'main' }] });
    expect(parse(GITLAB, body)).toMatchObject({ events: [{ repositories: ['my-group/my-project', 'https://gitlab.example.com/my-group/my-project'], branch: 'feature-branch-1' }] });
  });

  // A token naming no repository (another issuer): the GitHub example with repository and ref removed.
  const anonymous = { ...GITHUB, repository: undefined, ref: undefined, ref_type: undefined };

  test('a token that names no repository: the body says which (the claim conditions admitted the caller)', () => {
    expect(parse(anonymous, JSON.stringify({ repository: ['org/app', 'https://git.example.com/org/app.git'], tag: 'v2' }))).toEqual({ events: [
      { event: 'push', repositories: ['org/app', 'https://git.example.com/org/app.git'], ref: 'refs/tags/v2', tag: 'v2', commit: 'example-sha' },
    ] });
    expect(parse(anonymous, JSON.stringify({ repository: 'org/app', branch: 'main' }))).toMatchObject({ events: [{ ref: 'refs/heads/main', branch: 'main' }] });
    expect(parse(anonymous, JSON.stringify({ repository: 'org/app', ref: 'refs/heads/x', branch: 'x' }))).toMatchObject({ events: [{ ref: 'refs/heads/x', branch: 'x' }] });
  });

  test('the body is read as the generic payload (kit.genericEvent): its own rules hold', () => {
    // A GitHub-style repository object, and `deleted`, as the generic type reads them.
    const object = JSON.stringify({ repository: { full_name: 'org/app', clone_url: 'https://git.example.com/org/app.git' }, branch: 'main', deleted: true });
    expect(parse(anonymous, object)).toEqual({ events: [{ event: 'push', repositories: ['org/app', 'https://git.example.com/org/app.git'], ref: 'refs/heads/main', branch: 'main', deleted: true }] });
    expect(payloadError(() => parse(anonymous, JSON.stringify({ repository: 'org/app', ref: 'refs/heads/x', branch: 'y' })))).toBe('branch and ref disagree');
    // What the token names is not checked against the body: it replaces it.
    expect(parse(GITHUB, JSON.stringify({ ref: 'refs/heads/x', branch: 'y' }))).toMatchObject({ events: [{ ref: 'refs/heads/main', branch: 'main' }] });
  });

  test('changed paths beyond the cap are unknown (path filters then pass)', () => {
    const paths = Array.from({ length: payloadLimits.changedPaths + 1 }, (_, index) => `p${index}`);
    const [event] = (parse(GITHUB, JSON.stringify({ paths })) as Parsed).events;
    expect(event!.changedPaths).toBeUndefined();
    const [atCap] = (parse(GITHUB, JSON.stringify({ paths: paths.slice(1) })) as Parsed).events;
    expect(atCap!.changedPaths).toHaveLength(payloadLimits.changedPaths);
  });

  test.each<[string, () => unknown, string]>([
    ['no verified claims', () => parse(undefined), 'no verified token claims'],
    ['no repository anywhere', () => parse(anonymous), 'the token names no repository and the body gives none'],
    ['a body without repository', () => parse(anonymous, '{"branch":"main"}'), 'the token names no repository and the body gives none'],
    ['a claim of the wrong type', () => parse({ ...GITHUB, repository: 42 }), 'token.repository is not a string'],
    ['a body that is not JSON', () => parse(GITHUB, '{"paths":'), 'payload is not valid JSON'],
    ['a body that is not an object', () => parse(GITHUB, '["apps/a.yaml"]'), 'payload is not a JSON object'],
    ['paths not an array', () => parse(GITHUB, '{"paths":"apps/a.yaml"}'), 'paths is not an array'],
    ['paths holding a number', () => parse(GITHUB, '{"paths":["a",1]}'), 'paths holds a non-string'],
    ['commit not a string', () => parse(GITHUB, '{"commit":1}'), 'commit is not a string'],
    ['repository of the wrong type', () => parse(anonymous, '{"repository":7}'), 'repository is not a string, array or object'],
    ['a repository object without a name or URL', () => parse(anonymous, '{"repository":{"name":"x"}}'), 'repository is empty'],
    ['repository list holding a number', () => parse(anonymous, '{"repository":["org/a",1]}'), 'repository array holds a non-string'],
    [
      'more repositories than the cap',
      () => parse(anonymous, JSON.stringify({ repository: Array.from({ length: payloadLimits.repositories + 1 }, (_, index) => `org/r${index}`) })),
      `repository names more than ${payloadLimits.repositories} repositories (the limit)`,
    ],
    ['a short ref', () => parse(anonymous, '{"repository":"org/a","ref":"main"}'), 'ref must be a full ref such as refs/heads/main (or use branch/tag)'],
  ])('%s: PayloadError', (_name, run, message) => {
    expect(payloadError(run)).toStartWith(message);
  });
});

describe('generic-oidc options and sign', () => {
  const schema = codec.options!;
  const valid = { issuers: ['https://token.actions.githubusercontent.com'], audience: 'fluxgate', claims: { repository: 'your-org/*', ref: 'refs/heads/main' } };
  test.each<[string, unknown, boolean]>([
    ['issuers, audience and claims', valid, true],
    ['GitHub and a GitLab instance', { ...valid, issuers: ['https://token.actions.githubusercontent.com', 'https://gitlab.example.com'] }, true],
    ['no claims (any repository on github.com could call)', { issuers: valid.issuers, audience: 'fluxgate' }, false],
    ['empty claims', { ...valid, claims: {} }, false],
    ['an empty pattern', { ...valid, claims: { repository: '' } }, false],
    ['no issuers', { ...valid, issuers: [] }, false],
    ['an issuer that is no URL', { ...valid, issuers: ['token.actions.githubusercontent.com'] }, false],
    ['the same issuer twice', { ...valid, issuers: [valid.issuers[0], valid.issuers[0]] }, false],
    ['no audience', { issuers: valid.issuers, claims: valid.claims }, false],
    ['an unknown option', { ...valid, jwksUri: 'https://example.com/jwks' }, false],
  ])('%s', (_name, value, ok) => {
    expect(Value.Check(schema, value)).toBe(ok);
  });

  test('a malformed glob is refused when the provider is prepared, at options.claims.<claim>', () => {
    let problem: unknown;
    try {
      keyOf(codec, {}, { ...valid, claims: { ref: 'refs/heads/{main' } });
    } catch (error) {
      problem = error;
    }
    expect(problem).toBeInstanceOf(ConfigProblem);
    expect(problem).toMatchObject({ field: 'options.claims.ref', message: 'invalid pattern "refs/heads/{main": unclosed "{"' });
  });

  test('sign: nothing to sign with (the CI system holds the keys)', () => {
    expect(codec.sign(new Uint8Array(), {}, { now: NOW, deliveryId: 'x', options: valid })).toEqual({});
    expect(codec).toMatchObject({ keyless: true, secretFields: [], defaultEvents: ['push'] });
  });
});
