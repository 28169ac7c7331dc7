/**
 * `fluxgate send`'s sample of every built-in type: signed with the type's own `sign`, it verifies with the
 * provider prepared from the same secret, and parses to the repository and ref (or image and tag) asked for.
 */
import { describe, expect, test } from 'bun:test';
import { builtinProviders } from '../../plugins/index.ts';
import { sampleInput } from '../../src/commands/send.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import { normalizeImage } from '../../src/pipeline/image-ref.ts';
import type { Event } from '../../src/provider-kit/contract.ts';
import type { ProviderSecrets } from '../../src/config/secrets.ts';
import { normalizeRepository } from '../../src/pipeline/repository-url.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';

const catalog = builtinCatalog(builtinProviders, providerKit);
const NOW = new Date(Date.UTC(2031, 2, 4, 5, 6, 7));
const SIGNING = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

interface Row {
  secrets: ProviderSecrets;
  options?: Record<string, unknown>;
  repository?: string;
  /** What the event must name. */
  want: { repository: string; branch?: string; tag?: string } | { image: string; tag: string };
}

const git = (repository = 'your-org/your-repo') => ({ repository, branch: 'main' });
const rows: Record<string, Row> = {
  github: { secrets: { secret: 's' }, want: git() },
  gitlab: { secrets: { secret: 's', signingSecret: SIGNING }, want: git() },
  bitbucket: { secrets: { secret: 's' }, want: git() },
  'bitbucket-server': { secrets: { secret: 's' }, want: git() },
  gitea: { secrets: { secret: 's' }, want: git() },
  gogs: { secrets: { secret: 's' }, want: git() },
  'azure-devops': { secrets: { secret: 's' }, options: { username: 'hook' }, repository: 'org/project/repo', want: git('org/project/repo') },
  harbor: { secrets: { secret: 's' }, want: { image: 'harbor.example.com/your-org/your-repo', tag: 'v1' } },
  dockerhub: { secrets: {}, want: { image: 'your-org/your-repo', tag: 'v1' } },
  quay: { secrets: {}, want: { image: 'quay.io/your-org/your-repo', tag: 'v1' } },
  nexus: { secrets: { secret: 's' }, options: { registry: 'nexus.example.com:8082' }, want: { image: 'nexus.example.com:8082/your-org/your-repo', tag: 'v1' } },
  acr: { secrets: { secret: 's' }, options: { header: 'X-Acr-Token' }, want: { image: 'myregistry.azurecr.io/your-org/your-repo', tag: 'v1' } },
  gcr: { secrets: {}, options: { audience: 'https://hooks.example.com/hook/gcr', serviceAccount: 'push@my-project.iam.gserviceaccount.com' }, want: { image: 'us-east1-docker.pkg.dev/your-org/your-repo', tag: 'v1' } },
  'generic-hmac': { secrets: { secret: 's' }, want: git() },
  generic: { secrets: {}, want: git() },
  'generic-oidc': { secrets: {}, options: { issuers: ['https://token.actions.githubusercontent.com'], audience: 'fluxgate', claims: { repository: 'your-org/*' } }, want: git() },
  cdevents: { secrets: { secret: 's' }, want: { repository: 'your-org/your-repo' } },
  'standard-webhooks': { secrets: { secret: SIGNING }, options: { repository: 'data.repository', ref: 'data.ref' }, want: git() },
};

describe('samples', () => {
  test('every built-in type has one, and the table covers them all', () => {
    expect([...catalog.samples.keys()].sort()).toEqual([...catalog.keys()].sort());
    expect(Object.keys(rows).sort()).toEqual([...catalog.keys()].sort());
  });

  for (const [type, row] of Object.entries(rows)) {
    test(`${type}: signed, verified and parsed to what was asked`, async () => {
      const codec = catalog.get(type)!;
      const sample = catalog.samples.get(type)!;
      const registry = 'image' in row.want;
      const input = sampleInput({ url: 'http://x', providerType: type, repository: row.repository ?? 'your-org/your-repo', ...(registry ? { tag: 'v1' } : { branch: 'main' }) }, NOW, 'delivery-1');
      const body = new TextEncoder().encode(JSON.stringify(sample.body(input)));
      const options = codec.options ? (await import('@sinclair/typebox/value')).Value.Default(codec.options, structuredClone(row.options ?? {})) : undefined;
      const signs = !codec.keyless && codec.secretFields.some((field) => row.secrets[field] !== undefined);
      const headers = new Headers({ ...sample.headers(input), ...(signs ? codec.sign(body, row.secrets, { now: NOW, deliveryId: input.deliveryId, options }) : {}) });
      const request = { body, headers };
      const key = codec.prepare ? codec.prepare(row.secrets, options) : row.secrets;
      // Keyless types are verified against a local issuer in the end-to-end test of `send`.
      if (signs) expect(await codec.verify(request, key, NOW)).toMatchObject({ ok: true });
      const info = codec.describe(headers);
      const parsed = codec.parse(request, { ...info, claims: {} }, key);
      if ('ignored' in parsed) throw new Error(`ignored: ${parsed.ignored}`);
      const event = parsed.events[0] as Event;
      if ('image' in row.want) {
        expect(normalizeImage(event.image!.name)).toBe(normalizeImage(row.want.image));
        expect(event.tag).toBe(row.want.tag);
      } else {
        const wanted = normalizeRepository(row.want.repository).path;
        expect(event.repositories.map((spelling) => normalizeRepository(spelling).path)).toContain(wanted);
        if (row.want.branch) expect(event.branch).toBe(row.want.branch);
      }
      expect(event.deleted ?? false).toBe(false);
    });
  }
});
