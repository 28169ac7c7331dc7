/**
 * The describe and parse cases of fluxgate's own payload (src/provider-kit/generic-payload.ts), for each type that
 * reads it as is (`generic`, `generic-hmac`): the same headers, the same events, the same 400s.
 */
import { describe, expect, test } from 'bun:test';
import { PayloadError, type WebhookRequest } from '../../src/provider-kit/contract.ts';
import type { DrivenCodec } from './codec-adapter.ts';

const encoder = new TextEncoder();

function request(body: string | Uint8Array, headers: Record<string, string> = {}): WebhookRequest {
  return { body: typeof body === 'string' ? encoder.encode(body) : body, headers: new Headers(headers) };
}

/** Registers the describe and parse tests of the generic payload for `plugin` (a type named `id`). */
export function genericPayloadCases(plugin: DrivenCodec & { id: string }): void {
  const parse = (body: unknown, headers: Record<string, string> = {}) => {
    const req = request(typeof body === 'string' ? body : JSON.stringify(body), headers);
    return plugin.parse(req, plugin.describe(req));
  };

  describe(`${plugin.id} describe`, () => {
    test('X-Event or push; X-Delivery, else X-Request-Id', () => {
      expect(plugin.describe(request('{}'))).toEqual({ event: 'push', deliveryId: undefined });
      expect(plugin.describe(request('{}', { 'X-Event': 'release', 'X-Request-Id': 'req-9' }))).toMatchObject({ event: 'release', deliveryId: 'req-9' });
      expect(plugin.describe(request('{}', { 'X-Delivery': 'd-1', 'X-Request-Id': 'req-9' })).deliveryId).toBe('d-1');
    });
  });

  describe(`${plugin.id} parse`, () => {
    const good: { name: string; body: unknown; expected: Record<string, unknown> }[] = [
      { name: 'slug and branch', body: { repository: 'acme/fleet', branch: 'main' }, expected: { repositories: ['acme/fleet'], ref: 'refs/heads/main', branch: 'main' } },
      { name: 'URL and full branch ref', body: { repository: 'https://git.acme.example/acme/fleet.git', ref: 'refs/heads/release/1.x', commit: 'c0ffee' }, expected: { repositories: ['https://git.acme.example/acme/fleet.git'], branch: 'release/1.x', commit: 'c0ffee' } },
      { name: 'tag ref', body: { repository: 'acme/fleet', ref: 'refs/tags/v1.2.0' }, expected: { tag: 'v1.2.0', ref: 'refs/tags/v1.2.0' } },
      { name: 'tag field', body: { repository: 'acme/fleet', tag: 'v1.2.0' }, expected: { tag: 'v1.2.0', ref: 'refs/tags/v1.2.0' } },
      { name: 'ref and agreeing branch', body: { repository: 'acme/fleet', ref: 'refs/heads/main', branch: 'main' }, expected: { branch: 'main' } },
      { name: 'other refs keep only ref', body: { repository: 'acme/fleet', ref: 'refs/pull/7/head' }, expected: { ref: 'refs/pull/7/head', branch: undefined, tag: undefined } },
      { name: 'repository list', body: { repository: ['acme/fleet', 'git@git.acme.example:acme/fleet.git'] }, expected: { repositories: ['acme/fleet', 'git@git.acme.example:acme/fleet.git'], ref: undefined } },
      { name: 'paths', body: { repository: 'acme/fleet', branch: 'main', paths: ['apps/a.yaml', 'apps/b.yaml'] }, expected: { changedPaths: ['apps/a.yaml', 'apps/b.yaml'] } },
      { name: 'no paths = unknown', body: { repository: 'acme/fleet', branch: 'main' }, expected: { changedPaths: undefined } },
      { name: 'empty paths = nothing changed', body: { repository: 'acme/fleet', branch: 'main', paths: [] }, expected: { changedPaths: [] } },
      { name: 'deleted', body: { repository: 'acme/fleet', branch: 'old', deleted: true, commit: 'abc' }, expected: { deleted: true, commit: undefined, changedPaths: undefined } },
      {
        name: 'GitHub-like payload',
        body: {
          ref: 'refs/heads/main',
          after: '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c',
          repository: { full_name: 'acme/fleet', html_url: 'https://github.com/acme/fleet', clone_url: 'https://github.com/acme/fleet.git', id: 3 },
          commits: [{ added: ['a'], modified: ['b'], removed: [] }, { added: [], modified: ['b', 'c'], removed: ['d'] }],
        },
        expected: { repositories: ['acme/fleet', 'https://github.com/acme/fleet', 'https://github.com/acme/fleet.git'], branch: 'main', commit: '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c', changedPaths: ['a', 'b', 'c', 'd'] },
      },
      {
        name: 'GitHub-like payload with 20 commits: paths unknown',
        body: { ref: 'refs/heads/main', repository: { full_name: 'acme/fleet' }, commits: Array.from({ length: 20 }, (_, index) => ({ added: [`f${index}`] })) },
        expected: { changedPaths: undefined },
      },
      { name: 'GitHub-like deletion', body: { ref: 'refs/heads/x', after: '0000000000000000000000000000000000000000', repository: { full_name: 'acme/fleet' } }, expected: { deleted: true, commit: undefined } },
    ];
    for (const c of good) {
      test(c.name, () => {
        const event = parse(c.body, { 'X-Delivery': 'd-7' });
        expect(event.event).toBe('push');
        for (const [key, value] of Object.entries(c.expected)) expect(event[key as keyof typeof event]).toEqual(value as never);
      });
    }

    const bad: [string, unknown, RegExp][] = [
      ['malformed JSON', '{"repository": "acme/fleet"', /not valid JSON/],
      ['array body', '[]', /not a JSON object/],
      ['missing repository', { branch: 'main' }, /no repository/],
      ['empty repository', { repository: '' }, /repository is empty/],
      ['repository number', { repository: 42 }, /repository is not a string, array or object/],
      ['repository list with a number', { repository: ['a/b', 3] }, /non-string/],
      ['bare ref', { repository: 'a/b', ref: 'main' }, /full ref/],
      ['branch and tag', { repository: 'a/b', branch: 'main', tag: 'v1' }, /branch or tag, not both/],
      ['branch disagrees with ref', { repository: 'a/b', ref: 'refs/heads/main', branch: 'dev' }, /disagree/],
      ['paths not an array', { repository: 'a/b', paths: 'apps/**' }, /paths is not an array/],
      ['path not a string', { repository: 'a/b', paths: ['a', null] }, /non-string/],
      ['commit not a string', { repository: 'a/b', commit: 123 }, /commit is not a string/],
      ['deleted not a boolean', { repository: 'a/b', deleted: 'yes' }, /deleted is not a boolean/],
    ];
    for (const [name, body, reason] of bad) {
      test(`PayloadError: ${name}`, () => {
        let caught: unknown;
        try {
          parse(body);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(PayloadError);
        expect((caught as Error).message).toMatch(reason);
      });
    }
  });
}
