/**
 * Rotating a provider's secret without a gap: with `previousSecret` (or `previousSigningSecret`) beside the new
 * one, a delivery signed by either is accepted, one signed by neither is refused, and each accepted by the
 * retiring one is counted in `fluxgate_webhook_verified_with_previous_secret_total`. For every built-in type that
 * verifies with a secret, over HTTP, signed by the type's own `sign` as `fluxgate send` does.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { builtinProviders } from '../../plugins/index.ts';
import { runSend, type SendOptions } from '../../src/commands/send.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { configProblems } from '../support/config-check.ts';

const whsec = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;
/** The three secrets of each case: the new one, the one being retired, and one the gateway never had. */
const PLAIN = { current: 'rotation-new-4c1f', previous: 'rotation-old-9a2e', stranger: 'rotation-other-70b3' };
const SIGNING = { current: whsec(1), previous: whsec(2), stranger: whsec(3) };
type Which = keyof typeof PLAIN;

interface Case {
  /** The config field signed with, and the `send` flag that signs with it. */
  field: 'secret' | 'signingSecret';
  secrets: Record<Which, string>;
  /** The provider's YAML beyond name, type and its secrets. */
  extra?: string;
  match: string;
  /** send's arguments beyond the URL, type and secret. */
  args: Partial<SendOptions>;
}

const git = { match: 'match: { repository: your-org/your-repo, branches: [main] }', args: { repository: 'your-org/your-repo', branch: 'main' } };
const image = (name: string): Pick<Case, 'match' | 'args'> => ({ match: `match: { images: ["${name}"], tags: ["v1"] }`, args: { image: 'your-org/your-repo', tag: 'v1' } });
const plain = (rest: Pick<Case, 'match' | 'args'> & { extra?: string }): Case => ({ field: 'secret', secrets: PLAIN, ...rest });

const cases: Record<string, Case> = {
  github: plain(git),
  gitlab: plain(git),
  'gitlab-signing': { field: 'signingSecret', secrets: SIGNING, ...git },
  bitbucket: plain(git),
  'bitbucket-server': plain(git),
  gitea: plain(git),
  gogs: plain(git),
  'azure-devops': plain({ extra: 'options: { username: hook }', match: 'match: { repository: dev.azure.com/org/project/repo, branches: [main] }', args: { repository: 'org/project/repo', option: ['username=hook'] } }),
  harbor: plain(image('harbor.example.com/your-org/your-repo')),
  nexus: plain({ extra: 'options: { registry: "nexus.example.com:8082" }', ...image('nexus.example.com:8082/your-org/*') }),
  acr: plain({ extra: 'options: { header: X-Acr-Token }', ...image('myregistry.azurecr.io/your-org/your-repo'), args: { ...image('').args, option: ['header=X-Acr-Token'] } }),
  'generic-hmac': plain(git),
  cdevents: plain({ match: 'match: { repository: your-org/your-repo }', args: { repository: 'your-org/your-repo' } }),
  'standard-webhooks': { field: 'secret', secrets: SIGNING, extra: 'options: { repository: data.repository, ref: data.ref }', ...git },
};
/** The provider type of a case (`gitlab-signing` is GitLab signing with its signing token). */
const typeOf = (name: string) => (name === 'gitlab-signing' ? 'gitlab' : name);
const previousField = (field: string) => (field === 'secret' ? 'previousSecret' : 'previousSigningSecret');

const catalog = builtinCatalog(builtinProviders, providerKit);
let gateway: TestGateway;

beforeAll(async () => {
  const names = Object.keys(cases);
  const providers = names.map((name) => {
    const { field, secrets, extra } = cases[name]!;
    return `  - name: ${name}\n    type: ${typeOf(name)}\n    ${field}: { value: "${secrets.current}" }\n    ${previousField(field)}: { value: "${secrets.previous}" }${extra ? `\n    ${extra}` : ''}`;
  });
  const targets = names.map((name) => `  - name: ${name}\n    providers: [${name}]\n    ${cases[name]!.match}\n    resources: [{ kind: GitRepository, name: ${name}, namespace: flux-system }]`);
  gateway = await startTestGateway({ config: `kubernetes: { mode: dry-run }\nproviders:\n${providers.join('\n')}\ntargets:\n${targets.join('\n')}\n` });
});

afterAll(async () => {
  await gateway?.stop();
});

/** The status line `fluxgate send` prints for a delivery to case `name` signed with its `which` secret. */
async function send(name: string, which: Which): Promise<string> {
  const { field, secrets, args } = cases[name]!;
  const lines: string[] = [];
  await runSend({ url: gateway.hook(name), providerType: typeOf(name), [field]: secrets[which], ...args }, { catalog }, (line) => lines.push(line), (line) => lines.push(line));
  return lines[0]!;
}

async function verifiedWithPrevious(): Promise<Record<string, number>> {
  const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, provider, value] of text.matchAll(/^fluxgate_webhook_verified_with_previous_secret_total\{provider="([^"]+)",type="[^"]+"\} (\d+)$/gm)) counts[provider!] = Number(value);
  return counts;
}

test('the cases cover every built-in type that verifies with a secret', () => {
  const signed = [...catalog.keys()].map((id) => catalog.get(id)!).filter((codec) => !codec.keyless && codec.secretFields.length > 0);
  expect(new Set(Object.keys(cases).map(typeOf))).toEqual(new Set(signed.map((codec) => codec.id)));
});

describe.each(Object.keys(cases))('%s', (name) => {
  test('signed with the new secret: 202, not counted; with the retiring one: 202, counted; with another: 401', async () => {
    const before = (await verifiedWithPrevious())[name] ?? 0;
    expect(await send(name, 'current')).toBe('202 Accepted');
    expect((await verifiedWithPrevious())[name] ?? 0).toBe(before);
    expect(await send(name, 'previous')).toBe('202 Accepted');
    expect((await verifiedWithPrevious())[name]).toBe(before + 1);
    expect(await send(name, 'stranger')).toBe('401 Unauthorized');
    expect((await verifiedWithPrevious())[name]).toBe(before + 1);
  });
});

describe('config', () => {
  const provider = (lines: string) => `providers:\n  - name: github\n    type: github\n${lines}targets:\n  - name: app\n    providers: [github]\n    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]\n`;

  test('previousSecret without secret: says that it is the one being retired, beside a new one', () => {
    expect(configProblems(provider('    previousSecret: { env: OLD_SECRET }\n    allowUnsigned: true\n'))).toEqual([
      'fluxgate.yaml:4:5 providers[0].previousSecret: previousSecret is the secret being retired: set secret (the new one) beside it',
    ]);
  });

  test('a type that does not use the secret has no previous one', () => {
    expect(configProblems(provider('    secret: { env: NEW_SECRET }\n    previousSigningSecret: { env: OLD_SECRET }\n'))).toEqual([
      'fluxgate.yaml:5:5 providers[0].previousSigningSecret: type "github" does not use signingSecret, so it has no previousSigningSecret',
    ]);
  });
});

test('a retiring secret the type cannot use is reported at its own field, without its value', async () => {
  const config = `kubernetes: { mode: dry-run }\nproviders:\n  - name: gitlab\n    type: gitlab\n    signingSecret: { value: "${SIGNING.current}" }\n    previousSigningSecret: { value: "not-a-signing-token-5e1d" }\ntargets:\n  - name: app\n    providers: [gitlab]\n    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]\n`;
  const refused = await startTestGateway({ config }).then(
    async (started) => {
      await started.stop();
      return 'started';
    },
    (error: Error) => error.message,
  );
  expect(refused).toMatch(/fluxgate\.yaml:6:28 providers\[0\]\.previousSigningSecret: a signing secret starts with whsec_/);
  expect(refused).not.toContain('not-a-signing-token-5e1d');
});
