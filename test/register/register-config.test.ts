/** The `register` block of a provider: what the schema and the rules accept, in the user's words. */
import { describe, expect, test } from 'bun:test';
import { builtinProviders } from '../../plugins/index.ts';
import { checkRules, ConfigError, parseConfig } from '../../src/config/validate.ts';
import type { Config } from '../../src/config/schema.ts';
import { builtinCatalog } from '../../src/provider-kit/catalog.ts';
import { checkProviders } from '../../src/provider-kit/provider-rules.ts';
import { compileMatch } from '../../src/pipeline/match.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { defaultApiVersion } from '../../src/core/kinds.ts';

const catalog = builtinCatalog(builtinProviders, providerKit);
const context = { defaultApiVersion, compileMatch, more: (config: Config) => checkProviders(config, catalog) };

function problems(text: string): string[] {
  try {
    checkRules(parseConfig(text, 'fluxgate.yaml'), context);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

const provider = (lines: string, server = 'server: { publicUrl: https://fluxgate.example.com }\n') => `${server}providers:\n${lines}`;

describe('providers[].register', () => {
  test('GitHub with repositories and an organization, GitLab with projects and groups, Gitea with its API: accepted', () => {
    expect(
      problems(
        provider(`  - name: github
    type: github
    secret: { env: S }
    register: { token: { env: T }, repositories: [acme/app], organization: acme, onStart: true }
  - name: gitlab
    type: gitlab
    secret: { env: S }
    register: { token: { file: token }, apiUrl: https://gitlab.example.com, projects: [acme/app, 1234, acme/sub/deploy], groups: [acme, acme/sub] }
  - name: gitea
    type: gitea
    secret: { env: S }
    register: { token: { env: T }, apiUrl: https://gitea.example.com, repositories: [acme/app] }
`),
      ),
    ).toEqual([]);
  });

  test('each misfit is named at its key', () => {
    expect(
      problems(
        provider(
          `  - name: github
    type: github
    secret: { env: S }
    register: { token: { env: T }, projects: [acme/app] }
  - name: gitlab
    type: gitlab
    secret: { env: S }
    events: ['Push Hook', 'Pipline Hook']
    register: { token: { env: T }, repositories: discovered }
  - name: gitea
    type: gitea
    allowUnsigned: true
    register: { token: { env: T }, repositories: discovered }
  - name: harbor
    type: harbor
    secret: { env: S }
    register: { token: { env: T } }
`,
          '',
        ),
      ),
    ).toEqual([
      'fluxgate.yaml:5:5 providers[0].register: register needs server.publicUrl: the address the host reaches fluxgate at (the hook URL is publicUrl + the route)',
      'fluxgate.yaml:5:5 providers[0].register: register needs repositories or organization: where to keep the webhook',
      'fluxgate.yaml:5:36 providers[0].register.projects: GitHub registers on repositories or organization, not projects',
      'fluxgate.yaml:9:27 providers[1].events[1]: GitLab has no hook event for "Pipline Hook", so register cannot subscribe to it',
      'fluxgate.yaml:10:5 providers[1].register: register needs server.publicUrl: the address the host reaches fluxgate at (the hook URL is publicUrl + the route)',
      'fluxgate.yaml:10:5 providers[1].register: register needs projects or groups: where to keep the webhook',
      'fluxgate.yaml:10:36 providers[1].register.repositories: GitLab registers on projects or groups, not repositories',
      'fluxgate.yaml:14:5 providers[2].register: register needs server.publicUrl: the address the host reaches fluxgate at (the hook URL is publicUrl + the route)',
      'fluxgate.yaml:14:5 providers[2].register: Gitea has no public API to default to: set register.apiUrl (e.g. https://gitea.example.com/api/v1)',
      'fluxgate.yaml:14:5 providers[2].register: register needs secret: a hook registered without one would let anyone trigger reconciles',
      'fluxgate.yaml:14:50 providers[2].register.repositories: "discovered" takes the repositories from the Flux sources discovery finds: it needs discovery: { enabled: true }',
      'fluxgate.yaml:18:5 providers[3].register: type "harbor" cannot register webhooks: fluxgate register knows github, gitlab, gitea',
    ]);
  });

  test('an event named like a member of every object (constructor, toString) is no GitLab hook event', () => {
    expect(problems(provider(`  - name: gitlab\n    type: gitlab\n    secret: { env: S }\n    events: ['Push Hook', constructor, toString]\n    register: { token: { env: T }, projects: [acme/app] }\n`))).toEqual([
      'fluxgate.yaml:6:27 providers[0].events[1]: GitLab has no hook event for "constructor", so register cannot subscribe to it',
      'fluxgate.yaml:6:40 providers[0].events[2]: GitLab has no hook event for "toString", so register cannot subscribe to it',
    ]);
  });

  test('the schema: a scope is owner/repository, a typo is caught with a did-you-mean', () => {
    expect(problems(provider(`  - name: github\n    type: github\n    secret: { env: S }\n    register: { token: { env: T }, repositories: [app], organisation: acme }\n`))).toEqual([
      'fluxgate.yaml:6:50 providers[0].register.repositories: expected a list of owner/repository, or "discovered"',
      'fluxgate.yaml:6:57 providers[0].register.organisation: unknown key "organisation" (did you mean "organization"?)',
    ]);
  });
});
