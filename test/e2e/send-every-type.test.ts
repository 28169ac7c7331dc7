/**
 * `fluxgate send --provider-type X` for every built-in type, as a user runs it (a separate process), against a
 * running gateway with one provider and one target per type: each delivery is verified, parsed, matched and
 * answered 202. The OIDC types get ID tokens from a local issuer.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { builtinProviders } from '../../plugins/index.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { runIsolated } from '../support/isolated-cli.ts';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';
import { tempDir } from '../support/temp-dir.ts';

const SECRET = 'send-e2e-secret-71c2';
const SIGNING = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
const SERVICE_ACCOUNT = 'push@my-project.iam.gserviceaccount.com';

interface Case {
  /** The provider's YAML beyond name and type. */
  provider: (issuer: string) => string;
  /** The target's match block. */
  match: string;
  /** send's arguments beyond --provider-type and the URL. */
  args: (token: (claims: Record<string, unknown>) => Promise<string>) => Promise<string[]>;
}

const git = 'match: { repository: your-org/your-repo, branches: [main] }';
const image = (name: string) => `match: { images: ["${name}"], tags: ["v1"] }`;
const secret = () => `secret: { value: ${SECRET} }`;
const signed = async () => ['--secret', SECRET, '--repository', 'your-org/your-repo', '--branch', 'main'];
const pushed = async () => ['--secret', SECRET, '--image', 'your-org/your-repo', '--tag', 'v1'];

const cases: Record<string, Case> = {
  github: { provider: secret, match: git, args: signed },
  gitlab: { provider: () => `secret: { value: ${SECRET} }\n    signingSecret: { value: "${SIGNING}" }`, match: git, args: async () => ['--signing-secret', SIGNING, '--repository', 'your-org/your-repo'] },
  bitbucket: { provider: secret, match: git, args: signed },
  'bitbucket-server': { provider: secret, match: git, args: signed },
  gitea: { provider: secret, match: git, args: signed },
  gogs: { provider: secret, match: git, args: signed },
  'azure-devops': {
    provider: () => `${secret()}\n    options: { username: hook }`,
    match: 'match: { repository: dev.azure.com/org/project/repo, branches: [main] }',
    args: async () => ['--secret', SECRET, '--option', 'username=hook', '--repository', 'org/project/repo'],
  },
  harbor: { provider: secret, match: image('harbor.example.com/your-org/your-repo'), args: pushed },
  dockerhub: { provider: () => 'allowUnsigned: true', match: image('your-org/your-repo'), args: async () => ['--image', 'your-org/your-repo', '--tag', 'v1'] },
  quay: { provider: () => 'allowUnsigned: true', match: image('quay.io/your-org/your-repo'), args: async () => ['--image', 'your-org/your-repo', '--tag', 'v1'] },
  nexus: { provider: () => `${secret()}\n    options: { registry: "nexus.example.com:8082" }`, match: image('nexus.example.com:8082/your-org/*'), args: pushed },
  acr: {
    provider: () => `${secret()}\n    options: { header: X-Acr-Token }`,
    match: image('myregistry.azurecr.io/your-org/your-repo'),
    args: async () => ['--secret', SECRET, '--option', 'header=X-Acr-Token', '--image', 'your-org/your-repo', '--tag', 'v1'],
  },
  gcr: {
    provider: (issuer) => `options: { audience: "https://hooks.example.com/hook/gcr", serviceAccount: ${SERVICE_ACCOUNT}, issuer: "${issuer}" }`,
    match: image('us-east1-docker.pkg.dev/your-org/your-repo'),
    args: async (token) => ['--bearer-token', await token({ aud: 'https://hooks.example.com/hook/gcr', email: SERVICE_ACCOUNT, email_verified: true }), '--image', 'your-org/your-repo', '--tag', 'v1'],
  },
  'generic-hmac': { provider: secret, match: git, args: signed },
  generic: { provider: () => 'allowUnsigned: true', match: git, args: async () => ['--repository', 'your-org/your-repo', '--branch', 'main'] },
  'generic-oidc': {
    provider: (issuer) => `options: { issuers: ["${issuer}"], audience: fluxgate, claims: { repository: "your-org/*" } }`,
    match: git,
    args: async (token) => ['--bearer-token', await token({ aud: 'fluxgate', repository: 'your-org/your-repo', ref: 'refs/heads/main', jti: crypto.randomUUID() })],
  },
  cdevents: { provider: secret, match: 'match: { repository: your-org/your-repo }', args: signed },
  'standard-webhooks': { provider: () => `secret: { value: "${SIGNING}" }\n    options: { repository: data.repository, ref: data.ref }`, match: git, args: async () => ['--secret', SIGNING, '--repository', 'your-org/your-repo'] },
};

let issuer: OidcIssuer;
let gateway: TestGateway;
const work = tempDir();

beforeAll(async () => {
  issuer = await startOidcIssuer();
  const names = Object.keys(cases);
  const providers = names.map((type) => `  - name: ${type}\n    type: ${type}\n    ${cases[type]!.provider(issuer.issuer)}`).join('\n');
  const targets = names
    .map((type) => `  - name: ${type}\n    providers: [${type}]\n    ${cases[type]!.match}\n    resources: [{ kind: GitRepository, name: ${type}, namespace: flux-system }]`)
    .join('\n');
  gateway = await startTestGateway({ config: `kubernetes: { mode: dry-run }\nproviders:\n${providers}\ntargets:\n${targets}\n` });
});

afterAll(async () => {
  await gateway?.stop();
  await issuer?.stop();
  work.remove();
});

describe('fluxgate send, every type, against a running gateway', () => {
  test('the table covers every built-in type', () => {
    expect(Object.keys(cases).sort()).toEqual(builtinProviders.map((builtin) => builtin.default(providerKit).id).sort());
  });

  for (const type of Object.keys(cases)) {
    test(`${type}: 202`, async () => {
      const args = await cases[type]!.args((claims) => issuer.token(claims));
      const result = await runIsolated(['send', '--provider-type', type, ...args, gateway.hook(type)], { cwd: work.path });
      expect({ code: result.code, stderr: result.stderr, answer: result.stdout.split('\n')[0] }).toEqual({ code: 0, stderr: '', answer: '202 Accepted' });
      expect(JSON.parse(result.stdout.split('\n')[1]!)).toMatchObject({ targets: 1 });
    });
  }
});
