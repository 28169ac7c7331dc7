/**
 * An OIDC issuer whose discovery document or key set answers a redirect to another host: the keys are not taken
 * from there, nothing is sent there, and the delivery is refused with 503 + Retry-After (an issuer failure the CI
 * job may retry, as for an unreachable issuer), saying where the redirect pointed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { startElsewhere, type Elsewhere } from '../support/elsewhere.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';

let issuer: OidcIssuer;
let elsewhere: Elsewhere;
let gateway: TestGateway | undefined;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.stop());
beforeEach(() => {
  elsewhere = startElsewhere();
});
afterEach(async () => {
  issuer.override('/.well-known/openid-configuration', undefined);
  issuer.override('/jwks', undefined);
  await gateway?.stop();
  gateway = undefined;
  await elsewhere.stop();
});

/** A gateway with one generic-oidc provider trusting the local issuer (a new one per test: keys are cached per gateway). */
async function deliver(): Promise<Response> {
  gateway = await startTestGateway({
    config: `kubernetes: { mode: dry-run }
providers:
  - name: ci
    type: generic-oidc
    options: { issuers: ["${issuer.issuer}"], audience: fluxgate, claims: { repository: "acme/*" } }
targets:
  - name: app
    providers: [ci]
    match: { repository: acme/app, branches: [main] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
  });
  const token = await issuer.token({ aud: 'fluxgate', repository: 'acme/app', ref: 'refs/heads/main', jti: crypto.randomUUID() });
  return fetch(gateway.hook('ci'), { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
}

describe('generic-oidc when the issuer redirects', () => {
  test.each([
    ['discovery', '/.well-known/openid-configuration', 302],
    ['discovery', '/.well-known/openid-configuration', 307],
    ['the key set', '/jwks', 301],
    ['the key set', '/jwks', 302],
    ['the key set', '/jwks', 308],
  ] as const)('%s (%s) answering %d: 503, and the other host gets nothing', async (_what, path, status) => {
    issuer.override(path, () => elsewhere.redirect(status));
    const response = await deliver();
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
    const { error } = (await response.json()) as { error: string };
    expect(error).toBe(`cannot fetch the keys of issuer ${issuer.issuer}: GET ${path} answered ${status}, a redirect to ${elsewhere.shown}: not followed`);
    expect(elsewhere.received).toEqual([]);
  });

  test('the same issuer without the redirect: accepted (202)', async () => {
    expect((await deliver()).status).toBe(202);
  });
});
