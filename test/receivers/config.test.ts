/** `fluxReceivers` in the config: off by default, and a config with only Receivers to serve is a valid config. */
import { describe, expect, test } from 'bun:test';
import { checkConfig, configProblems } from '../support/config-check.ts';

const check = checkConfig;
const problems = configProblems;

describe('fluxReceivers', () => {
  test('off by default, refreshing Secrets every minute, writing no status', () => {
    const config = check('providers:\n  - { name: ci, type: generic, allowUnsigned: true }\n');
    expect(config.fluxReceivers).toEqual({ enabled: false, writeStatus: false, crossNamespaceRefs: true, strict: false, secretRefresh: 60_000 });
  });

  test('the one-line migration: a config with nothing but fluxReceivers is valid', () => {
    expect(check('fluxReceivers: { enabled: true }\n').fluxReceivers).toEqual({ enabled: true, writeStatus: false, crossNamespaceRefs: true, strict: false, secretRefresh: 60_000 });
    expect(check('fluxReceivers: { enabled: true, namespaces: [flux-system, apps], writeStatus: true, crossNamespaceRefs: false, strict: true, secretRefresh: 30s }\n').fluxReceivers).toEqual({
      enabled: true,
      namespaces: ['flux-system', 'apps'],
      writeStatus: true,
      crossNamespaceRefs: false,
      strict: true,
      secretRefresh: 30_000,
    });
  });

  test('without Receivers, a config still needs a provider', () => {
    expect(problems('server: { address: 127.0.0.1:9292 }\n').join('\n')).toContain("providers: no provider: configure at least one, serve the cluster's Flux Receivers with fluxReceivers: { enabled: true }, or take events from an edge with upstream: { url, token }");
  });

  test('keys are checked like every other', () => {
    expect(problems('fluxReceivers: { enabled: true, namespace: [apps] }\n').join('\n')).toContain('fluxReceivers.namespace: unknown key "namespace" (did you mean "namespaces"?)');
    expect(problems('fluxReceivers: { enabled: true, namespaces: [Apps_1] }\n').join('\n')).toContain('fluxReceivers.namespaces[0]');
  });
});
