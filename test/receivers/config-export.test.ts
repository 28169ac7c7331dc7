/** What import-receivers makes of Receivers that a config file holds only with care (names, types, kinds). */
import { describe, expect, test } from 'bun:test';
import { builtinProviders } from '../../plugins/index.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { receiversAsConfig, type ImportedReceiver } from '../../src/receivers/config-export.ts';
import { readReceiver } from '../../src/receivers/receiver-spec.ts';

const catalog = builtinCatalog(builtinProviders, providerKit);

function imported(name: string, spec: Record<string, unknown>, data: Record<string, string> = { token: 'tok-3f9a' }, namespace = 'apps'): ImportedReceiver {
  const read = readReceiver({ metadata: { name, namespace }, spec: { secretRef: { name: 'token' }, resources: [{ kind: 'GitRepository', name: 'app' }], ...spec } });
  return { namespace, name, read, secret: { data } };
}

describe('receiversAsConfig', () => {
  test('names stay valid config names, distinct even when namespace and name join the same way', () => {
    const long = 'r'.repeat(80);
    const { config } = receiversAsConfig([imported('b-c', { type: 'github' }, undefined, 'a'), imported('c', { type: 'github' }, undefined, 'a-b'), imported(long, { type: 'github' })], catalog);
    const names = config.providers.map((provider) => provider.name as string);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/);
  });

  test("bitbucket becomes bitbucket-server when it lists Data Center's events, and says so", () => {
    const { config, notes } = receiversAsConfig([imported('dc', { type: 'bitbucket', events: ['REPO:REFS_CHANGED'] }), imported('cloud', { type: 'bitbucket', events: ['repo:push'] })], catalog);
    expect(config.providers.map((provider) => [provider.type, provider.events])).toEqual([
      ['bitbucket-server', ['repo:refs_changed']],
      ['bitbucket', ['repo:push']],
    ]);
    expect(notes.join('\n')).toContain('imported as bitbucket-server');
  });

  test('gcr takes its audience and service account from the Secret; a kind fluxgate does not know names the annotation', () => {
    const { config } = receiversAsConfig([imported('gar', { type: 'gcr', resources: [{ kind: 'ArtifactGenerator', name: 'gen' }] }, { token: 't', email: 'sa@p.iam.gserviceaccount.com', audience: 'https://gw/hook/x' })], catalog);
    expect(config.providers[0]).toMatchObject({ type: 'gcr', options: { audience: 'https://gw/hook/x', serviceAccount: 'sa@p.iam.gserviceaccount.com' } });
    expect(config.targets[0]!.resources).toEqual([{ kind: 'ArtifactGenerator', apiVersion: 'source.extensions.fluxcd.io/v1beta1', namespace: 'apps', name: 'gen', annotation: 'reconcile.fluxcd.io/requestedAt' }]);
  });

  test('generic and generic-oidc: what differs is said, what cannot be said is left out', () => {
    const oidc = readReceiver({ metadata: { name: 'oidc', namespace: 'apps' }, spec: { type: 'generic-oidc', resources: [{ kind: 'GitRepository', name: 'app' }], oidcProviders: [{ issuerURL: 'https://token.actions.githubusercontent.com', validations: [{ expression: 'true', message: 'm' }] }] } });
    const { config, notes } = receiversAsConfig([imported('ci', { type: 'generic' }), { namespace: 'apps', name: 'oidc', read: oidc }], catalog);
    expect(config.providers).toEqual([expect.objectContaining({ type: 'generic', allowUnsigned: true })]);
    expect(notes.join('\n')).toContain("Flux's generic takes any body");
    expect(notes.join('\n')).toContain('Receiver apps/oidc is left out');
  });

  test('no value of the Secret is in the config', () => {
    const { config } = receiversAsConfig([imported('gh', { type: 'github' }, { token: 'tok-unique-81c2', other: 'also-secret-77' })], catalog);
    const text = JSON.stringify(config);
    expect(text).not.toContain('tok-unique-81c2');
    expect(text).not.toContain('also-secret-77');
  });
});
